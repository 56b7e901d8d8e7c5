"""Strikes, penalties and the moderation log, inside the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import ModerationEntry, Penalty, Strike

_strikes = Strike.__table__
_penalties = Penalty.__table__
_log = ModerationEntry.__table__
S = _strikes.c
P = _penalties.c


async def active_penalties(conn: AsyncConnection, keys: list[str], now: float) -> list[Any]:
    return list((await conn.execute(select(_penalties).where(P.key.in_(keys), P.until > now))).all())


async def any_active(conn: AsyncConnection, now: float) -> bool:
    return await conn.scalar(select(P.key).where(P.until > now).limit(1)) is not None


async def add_strike(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(_strikes).values(**values))


async def live_strikes(conn: AsyncConnection, *, subject: str | None = None, community: str | None = None,
                       since: float, now: float) -> int:
    q = select(func.count()).select_from(_strikes).where(S.cleared.is_(False), S.expires_at > now, S.at >= since)
    if subject is not None:
        q = q.where(S.subject == subject)
    if community is not None:
        q = q.where(S.community == community)
    return int(await conn.scalar(q) or 0)


async def set_penalty(conn: AsyncConnection, key: str, state: str, until: float, reason: str, now: float,
                      *, manual: bool = False, only_if_not_manual: bool = True) -> bool:
    """Create or extend a penalty; an administrator's manual decision is not overridden by the rules."""
    cond = [P.key == key]
    if only_if_not_manual:
        cond.append(P.manual.is_(False))
    done = await conn.execute(update(_penalties).where(*cond).values(
        state=state, until=until, reason=reason[:500], manual=manual,
        updated_at=now))
    if done.rowcount:
        return True
    try:
        async with conn.begin_nested():
            await conn.execute(insert(_penalties).values(key=key, state=state, until=until, reason=reason[:500],
                                                         manual=manual, updated_at=now))
    except IntegrityError:
        return False  # a manual penalty exists (not overridden) or a concurrent insert won
    return True


async def lift(conn: AsyncConnection, key: str) -> bool:
    return bool((await conn.execute(delete(_penalties).where(P.key == key))).rowcount)


async def penalty(conn: AsyncConnection, key: str) -> Any:
    return (await conn.execute(select(_penalties).where(P.key == key))).first()


async def strikes_of(conn: AsyncConnection, community: str | None, now: float, limit: int = 50) -> list[Any]:
    q = select(_strikes).where(S.cleared.is_(False), S.expires_at > now).order_by(S.at.desc()).limit(limit)
    if community is not None:
        q = q.where(S.community == community)
    return list((await conn.execute(q)).all())


async def clear_strikes(conn: AsyncConnection, community: str, subject: str | None = None) -> int:
    q = update(_strikes).where(S.community == community, S.cleared.is_(False))
    if subject is not None:
        q = q.where(S.subject == subject)
    return int((await conn.execute(q.values(cleared=True))).rowcount or 0)


async def penalties_report(conn: AsyncConnection, now: float) -> list[Any]:
    return list((await conn.execute(select(_penalties).where(P.until > now).order_by(P.key))).all())


async def log_block(conn: AsyncConnection, values: dict[str, Any], verdict: dict[str, Any]) -> None:
    await conn.execute(insert(_log).values(**values, verdict=json.dumps(verdict)))


async def prune_log(conn: AsyncConnection, before: float) -> int:
    return int((await conn.execute(delete(_log).where(_log.c.at < before))).rowcount or 0)


async def moderation_log(conn: AsyncConnection, community: str | None, limit: int = 50) -> list[Any]:
    q = select(_log).order_by(_log.c.at.desc(), _log.c.id.desc()).limit(limit)
    if community is not None:
        q = q.where(_log.c.community == community)
    return list((await conn.execute(q)).all())
