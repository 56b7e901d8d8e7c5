"""Minute-level counters (table stats_minutes), inside the caller's transaction.

Finished and faulted jobs are counted from the jobs table and written as absolute values, so the sweeps of
several nodes may rewrite the same minute without double counting; aborted jobs are added by whichever sweep
aborted them; the queue and workers columns are samples.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Integer, cast, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import Job, Request, StatsMinute
from horde_core.queue.states import DONE, FAULTED, SQL_WAITING

_minutes = StatsMinute.__table__
M = _minutes.c
J = Job.__table__.c
R = Request.__table__.c
KINDS = ("image", "text", "interrogation")


def _minute_of(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return cast(func.floor(column / 60), BigInteger)
    return cast(column / 60, Integer)  # SQLite truncates toward zero: the floor for positive times


async def finished_per_minute(conn: AsyncConnection, dialect: str, first: int, last: int
                              ) -> dict[tuple[int, str], dict[str, int]]:
    """{(minute, kind): {"finished", "faulted", "units"}} for jobs that ended in minutes first..last."""
    minute = _minute_of(J.finished_at, dialect).label("m")
    rows = (await conn.execute(
        select(minute, J.kind, J.state, func.count(), func.coalesce(func.sum(J.units), 0))
        .where(J.finished_at >= first * 60, J.finished_at < (last + 1) * 60, J.state.in_([DONE, FAULTED]))
        .group_by(minute, J.kind, J.state))).all()
    out: dict[tuple[int, str], dict[str, int]] = {}
    for m, kind, state, n, units in rows:
        cell = out.setdefault((int(m), kind), {"finished": 0, "faulted": 0, "units": 0})
        if state == DONE:
            cell["finished"] += int(n)
            cell["units"] += int(units) if kind != "interrogation" else int(n)
        else:
            cell["faulted"] += int(n)
    return out


async def queue_depth(conn: AsyncConnection) -> dict[str, tuple[int, int]]:
    """{kind: (waiting jobs, waiting work units)}: megapixelsteps for images, tokens for text, forms."""
    rows = (await conn.execute(
        select(J.kind, func.count(), func.coalesce(func.sum(R.pixels * R.steps), 0),
               func.coalesce(func.sum(R.max_length), 0))
        .select_from(Job.__table__.join(Request.__table__, R.id == J.request_id))
        .where(J.state == SQL_WAITING).group_by(J.kind))).all()
    out = {kind: (0, 0) for kind in KINDS}
    for kind, n, pixelsteps, tokens in rows:
        units = {"image": int(pixelsteps) // 1_000_000, "text": int(tokens)}.get(kind, int(n))
        out[kind] = (int(n), units)
    return out


async def last_minute(conn: AsyncConnection) -> int | None:
    found = await conn.scalar(select(func.max(M.minute)))
    return int(found) if found is not None else None


async def write(conn: AsyncConnection, minute: int, kind: str, *, add: dict[str, int] | None = None,
                **values: int) -> None:
    """Set `values` and add `add` to one minute's row, creating it when it is new."""
    add = add or {}
    change: dict[str, Any] = {**values, **{k: getattr(M, k) + v for k, v in add.items()}}
    if change and (await conn.execute(update(_minutes).where(M.minute == minute, M.kind == kind)
                                      .values(**change))).rowcount:
        return
    row = {"finished": 0, "faulted": 0, "aborted": 0, "units": 0, "queued_jobs": 0, "queued_units": 0,
           "workers": 0, **values, **add}
    try:
        async with conn.begin_nested():
            await conn.execute(insert(_minutes).values(minute=minute, kind=kind, **row))
    except IntegrityError:  # another node wrote this minute first
        if change:
            await conn.execute(update(_minutes).where(M.minute == minute, M.kind == kind).values(**change))


async def series(conn: AsyncConnection, first: int, last: int) -> list[Any]:
    """Every stored row of minutes first..last (minutes with no row had nothing to count)."""
    return list((await conn.execute(
        select(_minutes).where(M.minute >= first, M.minute <= last).order_by(M.minute))).all())


async def prune(conn: AsyncConnection, before: int) -> int:
    return int((await conn.execute(_minutes.delete().where(M.minute < before))).rowcount or 0)
