"""Webhook deliveries as statements: queue one inside the transaction that finished the generation, claim due
ones under a lease (any number of nodes may send; a crashed sender's rows come back after the lease), then
forget them once delivered or given up, or put them back with a later due time."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import Request, Webhook

_W = Webhook.__table__
W = _W.c
R = Request.__table__.c

# Queue one delivery when the request gave a URL and the queue is not full: one statement, so a submit
# without a webhook costs a primary-key probe and nothing else.
_ENQUEUE = insert(_W).from_select(
    ["id", "request_id", "job_id", "url", "kudos", "tries", "next_at", "claimed_by", "lease_until", "created_at"],
    select(bindparam("wid"), R.id, bindparam("jid"), R.webhook, bindparam("kudos"), literal(0),
           bindparam("now"), literal(""), literal(0.0), bindparam("now"))
    .where(R.id == bindparam("rid"), R.webhook != "",
           select(func.count()).select_from(_W).scalar_subquery() < bindparam("max_pending")))


async def enqueue(conn: AsyncConnection, request_id: str, job_id: str, kudos: int, now: float,
                  max_pending: int) -> bool:
    """Whether a delivery was queued (the request has a webhook and the queue had room)."""
    result = await conn.execute(_ENQUEUE, {"wid": str(uuid.uuid4()), "rid": request_id, "jid": job_id,
                                           "kudos": kudos, "now": now, "max_pending": max_pending})
    return result.rowcount == 1


async def any_due(conn: AsyncConnection, now: float) -> bool:
    """A cheap read first, so an idle sender never opens a write transaction."""
    return await conn.scalar(select(W.id).where(W.next_at <= now).limit(1)) is not None


async def claim_due(conn: AsyncConnection, holder: str, now: float, lease: float, limit: int) -> list[Any]:
    """Take up to `limit` due deliveries whose lease is free (or ours, or ran out)."""
    free = or_(W.lease_until < now, W.claimed_by == holder)
    due = select(W.id).where(W.next_at <= now, free).order_by(W.next_at).limit(limit)
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = await conn.execute(update(_W).where(W.id.in_(due.scalar_subquery()), W.next_at <= now, free)
                              .values(claimed_by=holder, lease_until=now + lease, tries=W.tries + 1)
                              .returning(*_W.c))
    return list(rows.all())


async def forget(conn: AsyncConnection, webhook_id: str, holder: str) -> None:
    await conn.execute(delete(_W).where(W.id == webhook_id, W.claimed_by == holder))


async def retry_at(conn: AsyncConnection, webhook_id: str, holder: str, when: float) -> None:
    await conn.execute(update(_W).where(W.id == webhook_id, W.claimed_by == holder)
                       .values(next_at=when, claimed_by="", lease_until=0.0))


async def pending(conn: AsyncConnection) -> int:
    return int(await conn.scalar(select(func.count()).select_from(_W)) or 0)
