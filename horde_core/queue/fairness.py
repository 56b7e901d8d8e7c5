"""What fairness per member counts: their requests in flight and the images they asked for lately, both
found by the `proxied_account` their community's bot sends (indexed with the request's creation time)."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import Job, Request
from horde_core.queue.states import ABORTED, ACTIVE, CANCELLED, FAULTED, REQ_HELD

R = Request.__table__.c
J = Job.__table__.c


async def serialize_member(conn: AsyncConnection, dialect: str, proxied_account: str) -> None:
    """Make one member's acceptances take turns until commit, so a burst of requests cannot all pass the same
    count (PostgreSQL: a transaction-scoped advisory lock; SQLite: its single writer already does)."""
    if dialect == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"fair:{proxied_account}"})


async def in_flight(conn: AsyncConnection, proxied_account: str, since: float) -> int:
    """Requests of the member not finished yet (created after `since`: older ones have expired)."""
    return int(await conn.scalar(select(func.count()).where(
        R.proxied_account == proxied_account, R.created_at >= since, R.state.in_([ACTIVE, REQ_HELD]))) or 0)


async def images_since(conn: AsyncConnection, proxied_account: str, since: float) -> int:
    """Images the member asked for since a moment, leaving out jobs cancelled or failed (they cost nothing)."""
    return int(await conn.scalar(
        select(func.count()).select_from(Job.__table__.join(Request.__table__, R.id == J.request_id))
        .where(R.proxied_account == proxied_account, R.created_at >= since, R.kind == "image",
               J.state.not_in([CANCELLED, FAULTED, ABORTED]))) or 0)
