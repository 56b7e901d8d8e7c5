"""Trust records in the database: read one, write one back, and the trusted ratings a new rating is compared
with. Always inside the caller's transaction (the rating's), after the rater's user row is locked."""

from __future__ import annotations

from sqlalchemy import Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import RaterTrust, Rating
from horde_core.ratings.trust import TRUSTED, UNPROVEN, Evidence, Record

_trust = RaterTrust.__table__
T = _trust.c
_R = Rating.__table__.c


def new_record(operator_trusted: bool) -> Record:
    """A rater's first record: unproven, or trusted when an operator trusts the account (evidence can still
    take that away); their first pick may be a gold image."""
    return Record(state=TRUSTED if operator_trusted else UNPROVEN)


async def load(conn: AsyncConnection, user_id: int) -> Record | None:
    row = (await conn.execute(select(_trust).where(T.user_id == user_id))).first()
    if row is None:
        return None
    return Record(row.state, Evidence(int(row.gold_count), float(row.gold_error), int(row.consensus_count),
                                      float(row.consensus_error)), int(row.gold_in))


async def save(conn: AsyncConnection, user_id: int, rec: Record, now: float, *, exists: bool) -> None:
    ev = rec.evidence
    values = {"state": rec.state, "gold_count": ev.gold_count, "gold_error": ev.gold_error,
              "consensus_count": ev.consensus_count, "consensus_error": ev.consensus_error,
              "gold_in": rec.gold_in, "updated_at": now}
    if exists:
        await conn.execute(update(_trust).where(T.user_id == user_id).values(**values))
    else:
        await conn.execute(insert(_trust).values(user_id=user_id, **values))


def trusted_raters() -> Select[tuple[int]]:
    """The ids of the raters whose ratings count (the consensus, the export)."""
    return select(T.user_id).where(T.state == TRUSTED)


async def trusted_ratings(conn: AsyncConnection, image_id: str, rater_id: int) -> list[int]:
    """Other trusted raters' ratings of an image."""
    rows = await conn.execute(select(_R.rating).where(
        _R.image_id == image_id, _R.rater_id != rater_id, _R.rating.is_not(None),
        _R.rater_id.in_(trusted_raters())))
    return [int(r.rating) for r in rows]


async def state_of(conn: AsyncConnection, user_id: int) -> str | None:
    return await conn.scalar(select(T.state).where(T.user_id == user_id))


__all__ = ["load", "new_record", "save", "state_of", "trusted_raters", "trusted_ratings"]
