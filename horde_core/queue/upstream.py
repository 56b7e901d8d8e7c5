"""Statements of upstream mode: the upstream relay claims waiting jobs like a worker, with a few more
conditions (waited long enough, not tried upstream too often, not from a penalised member or a paused
community), and gives them back to the local queue, without counting a fault, when the upstream fails.

Each is a conditional update on the state it leaves, so a relay racing a local worker, a TTL abort or a
cancel can never both win."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, not_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import Job, Request
from horde_core.queue.claim import worker_filter
from horde_core.queue.matching import WorkerProfile
from horde_core.queue.states import PROCESSING, SQL_PROCESSING, SQL_WAITING, WAITING

_jobs = Job.__table__
_requests = Request.__table__
J = _jobs.c
R = _requests.c


@dataclass(frozen=True, slots=True)
class UpstreamFilter:
    """Who may not go upstream right now, and what the relay may take."""

    created_before: float  # the request waited for a local worker since before this time
    max_tries: int
    forms: tuple[str, ...] = ()  # interrogation forms the upstream may serve
    excluded_users: tuple[int, ...] = ()  # API keys in timeout
    excluded_accounts: tuple[str, ...] = ()  # proxied members in timeout ("discord:<guild>:<user>")
    excluded_ips: tuple[str, ...] = ()  # addresses in timeout
    excluded_communities: tuple[str, ...] = ()  # "discord:<guild>": suspended, paused, or over budget
    allow_source_images: bool = False


def _conditions(worker: WorkerProfile, f: UpstreamFilter, now: float, j: Any) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [
        j.c.state == SQL_WAITING, j.c.kind == worker.kind, R.created_at <= f.created_before,
        j.c.upstream_tries < f.max_tries, j.c.upstream_after <= now, *worker_filter(worker),
        # A safety scan's own interrogation never leaves the house (its image is unreleased).
        not_(R.params.contains('"scan_job"', autoescape=True)),
    ]
    if worker.kind == "interrogation":
        conds.append(j.c.form.in_(f.forms))
    if worker.kind == "image" and not f.allow_source_images:  # a source may be a private photo
        conds.append(R.source_image == "")
    if f.excluded_users:
        conds.append(R.user_id.not_in(f.excluded_users))
    if f.excluded_accounts:
        conds.append(R.proxied_account.not_in(f.excluded_accounts))
    if f.excluded_ips:
        conds.append(R.ipaddr.not_in(f.excluded_ips))
    for community in f.excluded_communities:
        conds.append(not_(R.proxied_account.startswith(f"{community}:", autoescape=True)))
    return conds


async def claim(conn: AsyncConnection, dialect: str, worker: WorkerProfile, f: UpstreamFilter, now: float,
                ttl: float) -> Any:
    """Claim the best eligible waiting job (one: each goes upstream as its own request); None if none."""
    j = _jobs.alias("ju")
    pick = (select(j.c.id).select_from(j.join(_requests, R.id == j.c.request_id))
            .where(*_conditions(worker, f, now, j)).order_by(j.c.rank).limit(1))
    if dialect == "postgresql":
        # Materialised, so PostgreSQL runs the pick once: a subquery with LIMIT and SKIP LOCKED that it
        # re-runs per row can hand out more than one job.
        chosen = pick.with_for_update(of=j, skip_locked=True).cte("pick").prefix_with("MATERIALIZED")
        pick = select(chosen.c.id)
    stmt = (update(_jobs).where(J.id.in_(pick), J.state == SQL_WAITING)
            .values(state=PROCESSING, worker_id=worker.id, popped_at=now, deadline=now + ttl)
            .returning(J.id, J.request_id, J.seed, J.form, J.kind))
    return (await conn.execute(stmt)).first()


async def set_upstream_id(conn: AsyncConnection, job_id: str, worker_id: str, upstream_id: str) -> bool:
    """Remember the upstream's request id, so a restarted relay polls it instead of losing it."""
    done = await conn.execute(update(_jobs).where(J.id == job_id, J.worker_id == worker_id,
                                                  J.state == SQL_PROCESSING).values(upstream_id=upstream_id[:64]))
    return bool(done.rowcount)


async def release(conn: AsyncConnection, job_id: str, worker_id: str, *, retry_at: float, final: bool,
                  max_tries: int, count_try: bool = True) -> str | None:
    """Give a job the relay holds back to the local queue, without a fault: local workers serve it, and
    the upstream may try again after `retry_at` unless it was its last try. Returns its request id."""
    tries = max_tries if final else (J.upstream_tries + 1 if count_try else J.upstream_tries)
    row = (await conn.execute(
        update(_jobs).where(J.id == job_id, J.worker_id == worker_id, J.state == SQL_PROCESSING)
        .values(state=WAITING, worker_id=None, deadline=None, popped_at=None, upstream_id="",
                upstream_tries=tries, upstream_after=retry_at)
        .returning(J.request_id))).first()
    return None if row is None else str(row.request_id)


async def held_by(conn: AsyncConnection, worker_ids: list[str]) -> list[Any]:
    """Jobs the relay holds (after a restart: what to poll again, or give back)."""
    if not worker_ids:
        return []
    return list((await conn.execute(
        select(J.id, J.request_id, J.kind, J.form, J.seed, J.upstream_id, J.popped_at, J.deadline, J.worker_id)
        .where(J.worker_id.in_(worker_ids), J.state == SQL_PROCESSING))).all())


async def still_held(conn: AsyncConnection, job_id: str, worker_id: str) -> bool:
    return (await conn.scalar(select(J.id).where(J.id == job_id, J.worker_id == worker_id,
                                                 J.state == SQL_PROCESSING))) is not None


async def set_model(conn: AsyncConnection, job_id: str, worker_id: str, model: str) -> bool:
    """Record the model the upstream used, while the relay still holds the job (never over a local worker's)."""
    done = await conn.execute(update(_jobs).where(J.id == job_id, J.worker_id == worker_id,
                                                  J.state == SQL_PROCESSING).values(model=model))
    return bool(done.rowcount)
