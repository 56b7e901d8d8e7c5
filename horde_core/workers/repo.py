"""Reads and writes of worker rows, inside the caller's transaction."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Float, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import Team, User, Worker, WorkerStat

_workers = Worker.__table__
_stats = WorkerStat.__table__
_users = User.__table__
_teams = Team.__table__


@dataclass(slots=True)
class WorkerRow:
    """A worker record as the core sees it (the owner's trust and name folded in)."""

    id: str
    owner_id: int
    owner_name: str
    owner_trusted: bool
    name: str
    kind: str
    info: str
    bridge_agent: str
    models: list[str]
    softprompts: list[str]
    threads: int
    nsfw: bool
    max_pixels: int
    max_length: int
    max_context_length: int
    img2img: bool
    painting: bool
    post_processing: bool
    lora: bool
    maintenance: bool
    created_at: float
    last_check_in: float
    requests_fulfilled: int
    kudos_generated: int
    kudos_uptime: int
    units_generated: int
    uncompleted_jobs: int
    uptime_seconds: int
    flagged: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    last_job_at: float = 0.0
    paused: bool = False  # by a moderator: pops get no jobs
    team_id: str | None = None
    team_name: str = ""


_SELECT = (select(_workers, _users.c.username.label("owner_name"), _users.c.trusted.label("owner_trusted"),
                  _teams.c.name.label("team_name"))
           .join(_users, _users.c.id == _workers.c.owner_id).outerjoin(_teams, _teams.c.id == _workers.c.team_id))


def _row(r) -> WorkerRow:  # type: ignore[no-untyped-def]
    return WorkerRow(
        id=r.id, owner_id=int(r.owner_id), owner_name=f"{r.owner_name}#{r.owner_id}",
        owner_trusted=bool(r.owner_trusted), name=r.name, kind=r.kind, info=r.info,
        bridge_agent=r.bridge_agent, models=json.loads(r.models or "[]"),
        softprompts=json.loads(r.softprompts or "[]"), threads=int(r.threads),
        nsfw=bool(r.nsfw), max_pixels=int(r.max_pixels), max_length=int(r.max_length),
        max_context_length=int(r.max_context_length), img2img=bool(r.img2img), painting=bool(r.painting),
        post_processing=bool(r.post_processing), lora=bool(r.lora), maintenance=bool(r.maintenance),
        created_at=float(r.created_at), last_check_in=float(r.last_check_in),
        requests_fulfilled=int(r.requests_fulfilled), kudos_generated=int(r.kudos_generated),
        kudos_uptime=int(r.kudos_uptime), units_generated=int(r.units_generated),
        uncompleted_jobs=int(r.uncompleted_jobs), uptime_seconds=int(r.uptime_seconds), flagged=bool(r.flagged),
        last_job_at=float(r.last_job_at or 0.0), paused=bool(r.paused), team_id=r.team_id,
        team_name=r.team_name or "",
    )


def _encode(profile: dict[str, Any]) -> dict[str, Any]:
    values = {**profile, "models": json.dumps(profile.get("models", []))}
    if "softprompts" in values:
        values["softprompts"] = json.dumps(values["softprompts"])
    return values


async def by_name(conn: AsyncConnection, name: str) -> WorkerRow | None:
    r = (await conn.execute(_SELECT.where(_workers.c.name == name))).first()
    return _row(r) if r else None


async def by_id(conn: AsyncConnection, worker_id: str) -> WorkerRow | None:
    r = (await conn.execute(_SELECT.where(_workers.c.id == worker_id))).first()
    return _row(r) if r else None


async def listing(conn: AsyncConnection, *, kind: str | None = None, owner_id: int | None = None,
                  online_since: float | None = None) -> list[WorkerRow]:
    q = _SELECT.order_by(_workers.c.created_at)
    if kind:
        q = q.where(_workers.c.kind == kind)
    if owner_id is not None:
        q = q.where(_workers.c.owner_id == owner_id)
    if online_since is not None:
        q = q.where(_workers.c.last_check_in >= online_since)
    return [_row(r) for r in (await conn.execute(q)).all()]


async def count_of_owner(conn: AsyncConnection, owner_id: int) -> int:
    return int(await conn.scalar(select(func.count()).select_from(_workers).where(_workers.c.owner_id == owner_id))
               or 0)


async def create(conn: AsyncConnection, now: float, owner_id: int, name: str, kind: str,
                 profile: dict[str, Any]) -> WorkerRow | None:
    """Register a worker; None when the name was taken meanwhile (the caller looks it up again)."""
    values = _encode(profile)
    try:
        async with conn.begin_nested():
            await conn.execute(insert(_workers).values(
                id=str(uuid.uuid4()), owner_id=owner_id, name=name, kind=kind, created_at=now,
                last_check_in=now, uptime_paid_until=now, **values))
    except IntegrityError:
        return None
    return await by_name(conn, name)


async def check_in(conn: AsyncConnection, worker_id: str, now: float, profile: dict[str, Any]) -> None:
    """Write what a worker announced on its latest pop (debounced by the caller)."""
    values = _encode(profile)
    await conn.execute(update(_workers).where(_workers.c.id == worker_id)
                       .values(last_check_in=now, **values))


async def set_fields(conn: AsyncConnection, worker_id: str, **values: Any) -> None:
    await conn.execute(update(_workers).where(_workers.c.id == worker_id).values(**values))


_REWARD = bindparam("reward", type_=BigInteger)
_SECONDS = bindparam("seconds", type_=Float)
_RECORD_WORKER = update(_workers).where(_workers.c.id == bindparam("wid")).values(
    requests_fulfilled=_workers.c.requests_fulfilled + 1, kudos_generated=_workers.c.kudos_generated + _REWARD,
    units_generated=_workers.c.units_generated + bindparam("units", type_=BigInteger))
_LAST_JOB = (update(_workers).where(_workers.c.id == bindparam("wid"))
             .values(last_job_at=bindparam("at", type_=Float)))
_RECORD_STAT = (update(_stats).where(_stats.c.worker_id == bindparam("wid"), _stats.c.model == bindparam("model_in"))
                .values(jobs=_stats.c.jobs + 1, kudos=_stats.c.kudos + _REWARD, seconds=_stats.c.seconds + _SECONDS))


def _record_in_one() -> Any:
    """PostgreSQL: the worker's counters and its per-model row (an upsert) in one statement, one round trip."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    worker = (_RECORD_WORKER.values(last_job_at=func.coalesce(bindparam("at", type_=Float), _workers.c.last_job_at))
              .cte("counted"))
    stat = pg_insert(_stats).values(worker_id=bindparam("wid"), model=bindparam("model_in"), jobs=1, kudos=_REWARD,
                                    seconds=_SECONDS)
    return stat.on_conflict_do_update(
        index_elements=[_stats.c.worker_id, _stats.c.model],
        set_={"jobs": _stats.c.jobs + 1, "kudos": _stats.c.kudos + stat.excluded.kudos,
              "seconds": _stats.c.seconds + stat.excluded.seconds}).add_cte(worker)


_RECORD_IN_ONE = _record_in_one()


async def record_job(conn: AsyncConnection, worker_id: str, model: str, reward: int, units: int,
                     seconds: float, at: float | None = None) -> None:
    """Count one finished job on the worker and in its per-model statistics; `at` is when it finished (uptime
    kudos go only to workers that finished one recently)."""
    params = {"wid": worker_id, "reward": reward, "units": units, "model_in": model, "seconds": seconds}
    if conn.dialect.name == "postgresql":
        await conn.execute(_RECORD_IN_ONE, {**params, "at": at})
        return
    await conn.execute(_RECORD_WORKER, params)
    if at is not None:
        await conn.execute(_LAST_JOB, {"wid": worker_id, "at": at})
    if (await conn.execute(_RECORD_STAT, params)).rowcount:
        return
    try:
        async with conn.begin_nested():
            await conn.execute(insert(_stats).values(worker_id=worker_id, model=model, jobs=1, kudos=reward,
                                                     seconds=seconds))
    except IntegrityError:  # a concurrent first job of this model on this worker
        await conn.execute(_RECORD_STAT, params)


async def model_speeds(conn: AsyncConnection) -> dict[str, float]:
    """Seconds per job for each model, averaged over every worker's record."""
    rows = (await conn.execute(select(_stats.c.model, _stats.c.jobs, _stats.c.seconds))).all()
    acc: dict[str, list[float]] = {}
    for r in rows:
        a = acc.setdefault(r.model, [0.0, 0.0])
        a[0] += int(r.jobs)
        a[1] += float(r.seconds)
    return {m: (s / j if j else 0.0) for m, (j, s) in acc.items()}
