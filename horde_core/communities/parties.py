"""Party records: one running party per channel, its entries (a generation enters once), and its summary.
The money (budget, awards, what is returned) is the ledger's: `horde_core.ledger.parties`."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import Party, PartyEntry, Rating

_parties = Party.__table__
P = _parties.c
_entries = PartyEntry.__table__
E = _entries.c
_ratings = Rating.__table__
RT = _ratings.c

MAX_WORDS = 10


class AlreadyRunning(Exception):
    """A party already runs in that channel."""


def theme_words(theme: str) -> list[str]:
    """The words an entry's prompt must contain: comma-separated phrases, or, without commas, every word."""
    parts = theme.split(",") if "," in theme else theme.split()
    words: list[str] = []
    for part in parts:
        word = " ".join(part.lower().split())
        if word and word not in words:
            words.append(word)
    return words


def prompt_has_words(prompt: str, words: list[str]) -> bool:
    """Every required word in the prompt (not its negative part): single words as whole words, phrases as
    they are, in any case."""
    positive = prompt.split("###", 1)[0].lower()
    tokens = set(re.findall(r"[\w'-]+", positive))
    flat = " ".join(positive.split())
    return all((w in flat) if " " in w else (w in tokens) for w in words)


async def insert_party(conn: AsyncConnection, values: dict[str, Any]) -> None:
    try:
        async with conn.begin_nested():
            await conn.execute(insert(_parties).values(**values))
    except IntegrityError:
        raise AlreadyRunning from None


async def running_in(conn: AsyncConnection, community: str, channel: str, *, for_update: bool = False) -> Any:
    """The running party of a channel. `for_update` (PostgreSQL) makes entries and endings take turns, before
    an entry's row (whose foreign key share-locks the party) could deadlock with another's payment."""
    query = select(_parties).where(P.community == community, P.channel == channel, P.state == "running")
    return (await conn.execute(query.with_for_update() if for_update else query)).first()


async def party_row(conn: AsyncConnection, party_id: str) -> Any:
    return (await conn.execute(select(_parties).where(P.id == party_id))).first()


async def add_entry(conn: AsyncConnection, party_id: str, job_id: str, user_id: int, now: float) -> bool:
    """Record a generation's entry; False when it entered (this or any party) before."""
    try:
        async with conn.begin_nested():
            await conn.execute(insert(_entries).values(party_id=party_id, job_id=job_id, user_id=user_id, award=0,
                                                       at=now))
    except IntegrityError:
        return False
    return True


async def set_entry_award(conn: AsyncConnection, party_id: str, job_id: str, award: int) -> None:
    await conn.execute(update(_entries).where(E.job_id == job_id).values(award=award))
    await conn.execute(update(_parties).where(P.id == party_id).values(entries=P.entries + 1))


async def end(conn: AsyncConnection, party_id: str, reason: str, now: float) -> bool:
    """Running -> ended, once (a host's /party end racing the last award: one of them ends it)."""
    result = await conn.execute(update(_parties).where(P.id == party_id, P.state == "running")
                                .values(state="ended", end_reason=reason, ended_at=now))
    return result.rowcount == 1


async def top_entrants(conn: AsyncConnection, party_id: str, limit: int) -> list[tuple[int, int, int]]:
    """(user id, entries, kudos won), most kudos first."""
    rows = await conn.execute(select(E.user_id, func.count(), func.sum(E.award)).where(E.party_id == party_id)
                              .group_by(E.user_id).order_by(func.sum(E.award).desc(), E.user_id).limit(limit))
    return [(int(u), int(n), int(k or 0)) for u, n, k in rows]


async def top_rated(conn: AsyncConnection, party_id: str, limit: int) -> list[tuple[str, int, float, int]]:
    """(job id, user id, mean rating, ratings) of the best-rated entries (unrated entries are left out)."""
    mean = func.avg(RT.rating)
    rows = await conn.execute(
        select(E.job_id, E.user_id, mean, func.count(RT.rating))
        .select_from(_entries.join(_ratings, RT.image_id == E.job_id))
        .where(E.party_id == party_id, RT.rating.is_not(None))
        .group_by(E.job_id, E.user_id).order_by(mean.desc(), func.count(RT.rating).desc(), E.job_id).limit(limit))
    return [(j, int(u), float(m), int(n)) for j, u, m, n in rows]


def words_of(row: Any) -> list[str]:
    return list(json.loads(row.words or "[]"))
