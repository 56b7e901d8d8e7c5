"""Parties: a host pays an award for every generation in one channel that follows the theme.

The budget is held in escrow when the party starts, so it can never be overspent; each entry is paid
once, from that escrow, in the transaction that records it; the party ends by itself when the escrow is
empty (exactly the budget paid), or when its host ends it (the rest goes back). "party_ended" is
published after either, so the bot can post the summary.

A generation enters through `party_entry(job_id, channel)`, which the generate flow calls when it
delivers a result (the core does not know in which channel a request was made).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from horde_core.communities import parties
from horde_core.communities.scopes import member_of
from horde_core.ledger import parties as party_money
from horde_core.queue import lifecycle
from horde_core.queue.states import DONE
from horde_core.users.repo import UserRow

from .base import ServiceBase
from .errors import BadRequest, Forbidden, HordeError, NotFound

TOP = 5


@dataclass(frozen=True, slots=True)
class PartyInfo:
    id: str
    community: str
    channel: str
    host_id: int
    theme: str
    words: list[str]
    style: str
    award: int
    budget: int
    escrow: int  # still held
    paid: int
    refunded: int
    entries: int
    state: str  # running | ended
    end_reason: str  # budget | host
    started_at: float
    ended_at: float | None


@dataclass(frozen=True, slots=True)
class PartySummary:
    party: PartyInfo
    entrants: list[tuple[int, int, int]]  # (user id, entries, kudos won), most kudos first
    top_rated: list[tuple[str, int, float, int]]  # (job id, user id, mean rating, ratings)


@dataclass(frozen=True, slots=True)
class PartyAward:
    party_id: str
    user_id: int
    award: int
    ended: bool  # this entry spent the last of the budget


def _info(row: Any) -> PartyInfo:
    return PartyInfo(id=row.id, community=row.community, channel=row.channel, host_id=int(row.host_id),
                     theme=row.theme, words=parties.words_of(row), style=row.style, award=int(row.award),
                     budget=int(row.budget), escrow=int(row.escrow), paid=int(row.paid), refunded=int(row.refunded),
                     entries=int(row.entries), state=row.state, end_reason=row.end_reason,
                     started_at=float(row.started_at), ended_at=row.ended_at)


class PartyMixin(ServiceBase):
    async def start_party(self, host: UserRow, community: str, channel: str, *, theme: str, award: int,
                          budget: int, style: str = "") -> PartyInfo:
        """Hold the budget from the host and open the party; nothing is held when anything is refused."""
        words = parties.theme_words(theme)
        if not words:
            raise BadRequest("A party needs a theme: the words every entry's prompt must contain.", rc="PartyTheme")
        if len(words) > parties.MAX_WORDS:
            raise BadRequest(f"A theme has at most {parties.MAX_WORDS} required words.", rc="PartyTheme")
        if award < 1 or budget < award:
            raise BadRequest("The award is at least 1 kudo and the budget at least one award.", rc="PartyBudget")
        if host.anonymous:
            raise Forbidden("Anonymous users cannot host parties.", rc="AnonForbidden")
        now = self.clock.now()
        party_id = str(uuid.uuid4())
        async with self.db.transaction() as conn:
            try:
                await parties.insert_party(conn, {
                    "id": party_id, "community": community, "channel": channel, "host_id": host.id,
                    "theme": theme.strip()[:500], "words": json.dumps(words), "style": style[:200], "award": award,
                    "budget": budget, "escrow": 0, "paid": 0, "refunded": 0, "entries": 0, "state": "running",
                    "end_reason": "", "started_at": now})
            except parties.AlreadyRunning:
                raise HordeError("A party is already running in this channel; it ends when its budget is spent "
                                 "or its host ends it.", rc="PartyRunning", status=409) from None
            if not await party_money.hold_budget(conn, now, host.id, party_id, budget):
                raise Forbidden(f"A budget of {budget:,} kudos is more than you have.", rc="KudosUpfront")
            row = await parties.party_row(conn, party_id)
        return _info(row)

    async def party_in(self, community: str, channel: str) -> PartyInfo | None:
        """The party running in a channel, if any."""
        async with self.db.read() as conn:
            row = await parties.running_in(conn, community, channel)
        return _info(row) if row is not None else None

    async def end_party(self, community: str, channel: str, by_user_id: int, *, may_end_any: bool = False
                        ) -> PartySummary:
        """The host (or, with `may_end_any`, a moderator) ends the party; the unspent budget goes back."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            row = await parties.running_in(conn, community, channel, for_update=True)
            if row is None:
                raise NotFound("No party is running in this channel.", rc="PartyNotFound")
            if row.host_id != by_user_id and not may_end_any:
                raise Forbidden("Only the party's host (or a moderator) can end it.", rc="NotHost")
            if not await parties.end(conn, row.id, "host", now):
                raise NotFound("This party has just ended.", rc="PartyNotFound")
            await party_money.return_rest(conn, now, row.id, int(row.host_id))
        self._party_ended(row.id, community, channel)
        return await self.party_summary(row.id)

    async def party_summary(self, party_id: str) -> PartySummary:
        async with self.db.read() as conn:
            row = await parties.party_row(conn, party_id)
            if row is None:
                raise NotFound("No such party.", rc="PartyNotFound")
            entrants = await parties.top_entrants(conn, party_id, TOP)
            rated = await parties.top_rated(conn, party_id, TOP)
        return PartySummary(_info(row), entrants, rated)

    async def party_entry(self, job_id: str, channel: str) -> PartyAward | None:
        """Enter a finished generation into the party running where it was delivered, and pay its award.

        None when it does not enter: no party there, not a finished uncensored image, finished before the party
        started, the prompt misses a required word, the host's own generation, or it entered before (one award
        per generation)."""
        now = self.clock.now()
        async with self.db.read() as conn:
            job = await lifecycle.job_row(conn, job_id)
            request = await lifecycle.request_row(conn, job.request_id) if job is not None else None
        if job is None or request is None or job.kind != "image" or job.state != DONE or job.censored:
            return None
        member = member_of(request.proxied_account)
        if member is None:
            return None
        community = member[0]
        try:
            async with self.db.transaction() as conn:
                row = await parties.running_in(conn, community, channel, for_update=True)
                if row is None or int(row.host_id) == int(job.user_id) or (job.finished_at or 0) < row.started_at:
                    return None  # no party, the host's own, or made before the party began
                if not parties.prompt_has_words(request.prompt, parties.words_of(row)):
                    return None
                if not await parties.add_entry(conn, row.id, job.id, int(job.user_id), now):
                    return None
                paid, left = await party_money.pay_award(conn, now, row.id, int(job.user_id), int(row.award), job.id)
                if not paid:
                    raise _Spent  # roll the entry back
                await parties.set_entry_award(conn, row.id, job.id, paid)
                ended = left == 0 and await parties.end(conn, row.id, "budget", now)
        except _Spent:
            return None
        if ended:
            self._party_ended(row.id, community, channel)
        return PartyAward(row.id, int(job.user_id), paid, ended)

    def _party_ended(self, party_id: str, community: str, channel: str) -> None:
        self.events.publish("party_ended", {"party_id": party_id, "community": community, "channel": channel})


class _Spent(Exception):
    """A running party holding nothing (its last award ends it, so only a race gets here): no entry."""
