"""Delivery rows and their lease: every change is one conditional statement checked by its row count.

A client process follows a delivery while it holds the lease (`claimed_by`, `lease_until`) and renews it as it
goes. Another process may take a delivery over only once the lease has run out, so two processes never post the
same result, and one that died mid-post leaves a delivery that becomes claimable again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import Delivery

_D = Delivery.__table__
D = _D.c
OPEN, STRANDED = "open", "stranded"


def _token_while_valid(now: float) -> Any:
    """The token, or nothing once it expired: past that it grants nothing, so it is not kept."""
    return case((D.token_expires <= now, ""), else_=D.token)


async def add(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(insert(_D).values(**row))


async def get(conn: AsyncConnection, delivery_id: str) -> Any:
    return (await conn.execute(select(_D).where(D.id == delivery_id))).first()


async def claim(conn: AsyncConnection, delivery_id: str, holder: str, now: float, lease: float, *,
                state: str = OPEN, user_id: int | None = None) -> bool:
    """Take the lease if it is free, run out, or already ours. A token past its expiry is wiped on the way."""
    taken_over = case((D.claimed_by.notin_(["", holder]), D.failures + 1), else_=D.failures)  # its holder died
    query = (update(_D).where(D.id == delivery_id, D.state == state,
                              or_(D.lease_until < now, D.claimed_by == holder))
             .values(claimed_by=holder, lease_until=now + lease, failures=taken_over, token=_token_while_valid(now)))
    if user_id is not None:
        query = query.where(D.user_id == user_id)
    return (await conn.execute(query)).rowcount == 1


async def renew(conn: AsyncConnection, delivery_id: str, holder: str, now: float, lease: float) -> bool:
    """Still ours (nobody took it over)? Then keep it for another lease (and drop a token past its expiry)."""
    result = await conn.execute(update(_D).where(D.id == delivery_id, D.claimed_by == holder)
                                .values(lease_until=now + lease, token=_token_while_valid(now)))
    return result.rowcount == 1


async def release(conn: AsyncConnection, delivery_id: str, holder: str, *, failed: bool = False) -> bool:
    """Hand it back at once (a clean shutdown, or an error worth another try), so the next process need not wait
    for the lease to run out."""
    result = await conn.execute(update(_D).where(D.id == delivery_id, D.claimed_by == holder)
                                .values(claimed_by="", lease_until=0.0, failures=D.failures + int(failed)))
    return result.rowcount == 1


async def release_all(conn: AsyncConnection, holder: str) -> int:
    """Hand back every open delivery `holder` still leases: a stopping process may hold some it has not started
    following yet (written with their request a moment before the stop)."""
    result = await conn.execute(update(_D).where(D.claimed_by == holder, D.state == OPEN)
                                .values(claimed_by="", lease_until=0.0))
    return result.rowcount


async def finish(conn: AsyncConnection, delivery_id: str, holder: str) -> bool:
    result = await conn.execute(delete(_D).where(D.id == delivery_id, D.claimed_by == holder))
    return result.rowcount == 1


async def strand(conn: AsyncConnection, delivery_id: str, holder: str, reason: str) -> bool:
    """Nowhere to put it: keep it for the member to fetch, without the token (it can no longer be used)."""
    result = await conn.execute(update(_D).where(D.id == delivery_id, D.claimed_by == holder, D.state == OPEN)
                                .values(state=STRANDED, note=reason[:2000], token="", claimed_by="",
                                        lease_until=0.0))
    return result.rowcount == 1


async def claimable(conn: AsyncConnection, now: float, limit: int, request_id: str | None = None,
                    features: list[str] | None = None) -> list[Any]:
    query = select(_D).where(D.state == OPEN, D.lease_until < now).order_by(D.created_at).limit(limit)
    if request_id is not None:
        query = query.where(D.request_id == request_id)
    if features is not None:
        query = query.where(D.feature.in_(features))
    return list((await conn.execute(query)).all())


async def held(conn: AsyncConnection, request_id: str, holder: str) -> Any:
    return (await conn.execute(select(_D).where(D.request_id == request_id, D.claimed_by == holder, D.state == OPEN)
                               .limit(1))).first()


async def stranded_of(conn: AsyncConnection, user_id: int, limit: int) -> list[Any]:
    return list((await conn.execute(select(_D).where(D.user_id == user_id, D.state == STRANDED)
                                    .order_by(D.created_at.desc()).limit(limit))).all())


async def prune_stranded(conn: AsyncConnection, before: float) -> int:
    result = await conn.execute(delete(_D).where(D.state == STRANDED, D.created_at < before))
    return int(result.rowcount or 0)
