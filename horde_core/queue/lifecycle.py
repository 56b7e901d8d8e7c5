"""Requests and jobs moving through their states, as statements inside the caller's transaction.

Every transition is a conditional update on the state it leaves, so two nodes running the
same sweep, or a late submit racing a TTL abort, can never both win.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import Delivery, Favourite, Job, Request, Worker
from horde_core.queue.states import (
    ABORTED,
    ACTIVE,
    CANCELLED,
    DONE,
    FAULTED,
    HELD,
    REQ_CANCELLED,
    REQ_EXPIRED,
    REQ_FAULTED,
    REQ_PRUNED,
    SQL_PROCESSING,
    SQL_WAITING,
    WAITING,
)

_jobs = Job.__table__
_requests = Request.__table__
J = _jobs.c
R = _requests.c
# A result a client still owes its member (or could not post anywhere) keeps its images until it is handed over.
_OWED = exists().where(Delivery.__table__.c.request_id == R.id)


# The statements on the hot paths (accept, pop, submit, check) are built once, with bind parameters:
# constructing a statement costs several times more than running it on SQLite.
_INSERT_REQUEST = insert(_requests)
_INSERT_JOB = insert(_jobs)
_REQUEST_ROW = select(_requests).where(R.id == bindparam("rid"))
_JOB_ROW = select(_jobs).where(J.id == bindparam("jid"))
_JOB_COUNTS = select(J.state, func.count()).where(J.request_id == bindparam("rid")).group_by(J.state)
_QUEUE_POSITION = (select(func.count()).select_from(_jobs)
                   .where(J.state == SQL_WAITING, J.kind == bindparam("kind"), J.rank < bindparam("rank")))
_WAITING_ANY = select(J.id).where(J.state == SQL_WAITING, J.kind == bindparam("kind")).limit(1)
_FINISHED_JOBS = (select(_jobs).where(J.request_id == bindparam("rid"), J.state == DONE)
                  .order_by(J.finished_at, J.id))
_JOBS_OF = select(_jobs).where(J.request_id == bindparam("rid")).order_by(J.id)
# Matches the partial index ix_jobs_user_active, so the count never walks other users' jobs.
_ACTIVE_OF_USER = (select(func.count()).select_from(_jobs)
                   .where(J.user_id == bindparam("uid"), J.state.in_([SQL_WAITING, SQL_PROCESSING])))
_ACTIVE_OF_IP = (select(func.count()).select_from(_jobs.join(_requests, R.id == J.request_id))
                 .where(J.user_id == bindparam("uid"), J.state.in_([SQL_WAITING, SQL_PROCESSING]),
                        R.ipaddr == bindparam("ip")))
_OWNED_BY = J.worker_id.in_(select(Worker.__table__.c.id).where(Worker.__table__.c.owner_id == bindparam("owner")))
# The request's webhook comes back with the finished job (a primary-key probe inside the same statement), so a
# submit for a request without one spends no statement on webhooks.
_FINISH = (update(_jobs).where(J.id == bindparam("jid"), _OWNED_BY, J.state == SQL_PROCESSING)
           .returning(J.id, J.request_id, J.popped_at, J.model, J.reward, J.units, J.worker_id,
                      select(R.webhook).where(R.id == J.request_id).scalar_subquery().label("webhook")))
# The same, for a result uploaded under a claim's key: only while that claim still holds the job.
_FINISH_UPLOADED = _FINISH.where(J.upload_key == bindparam("claim_key"))
_SET_UPLOAD_KEY = update(_jobs).where(J.id == bindparam("jid")).values(upload_key=bindparam("ukey"))
_SET_MODEL = update(_jobs).where(J.id.in_(bindparam("ids", expanding=True))).values(model=bindparam("model_in"))


async def insert_request(conn: AsyncConnection, request: dict[str, Any], jobs: list[dict[str, Any]]) -> None:
    await conn.execute(_INSERT_REQUEST, request)
    await conn.execute(_INSERT_JOB, jobs)


async def request_row(conn: AsyncConnection, request_id: str) -> Any:
    return (await conn.execute(_REQUEST_ROW, {"rid": request_id})).first()


async def job_row(conn: AsyncConnection, job_id: str) -> Any:
    return (await conn.execute(_JOB_ROW, {"jid": job_id})).first()


async def job_counts(conn: AsyncConnection, request_id: str) -> dict[str, int]:
    rows = (await conn.execute(_JOB_COUNTS, {"rid": request_id})).all()
    return {state: int(n) for state, n in rows}


async def queue_position(conn: AsyncConnection, kind: str, rank: float) -> int:
    """Waiting jobs ahead of this rank (an index range count)."""
    return int(await conn.scalar(_QUEUE_POSITION, {"kind": kind, "rank": rank}) or 0)


async def anything_waiting(conn: AsyncConnection, kind: str) -> bool:
    return await conn.scalar(_WAITING_ANY, {"kind": kind}) is not None


async def finished_jobs(conn: AsyncConnection, request_id: str) -> list[Any]:
    return list((await conn.execute(_FINISHED_JOBS, {"rid": request_id})).all())


async def jobs_of(conn: AsyncConnection, request_id: str) -> list[Any]:
    return list((await conn.execute(_JOBS_OF, {"rid": request_id})).all())


async def active_jobs_of_user(conn: AsyncConnection, user_id: int) -> int:
    """Jobs of a user still waiting or in flight (the concurrency limit counts these)."""
    return int(await conn.scalar(_ACTIVE_OF_USER, {"uid": user_id}) or 0)


async def active_jobs_of_ip(conn: AsyncConnection, user_id: int, ipaddr: str) -> int:
    """Jobs of one user (the anonymous one) sent from one address, still waiting or in flight."""
    return int(await conn.scalar(_ACTIVE_OF_IP, {"uid": user_id, "ip": ipaddr[:64]}) or 0)


def owned_by(user_id: int) -> Any:
    """Condition: the job is held by one of this user's workers."""
    return J.worker_id.in_(select(Worker.__table__.c.id).where(Worker.__table__.c.owner_id == user_id))


async def finish_job(conn: AsyncConnection, job_id: str, owner_id: int, now: float,
                     values: dict[str, Any], *, upload_key: str | None = None) -> Any:
    """Processing -> done, if a worker of `owner_id` holds the job (under the claim that uploaded to
    `upload_key`, when given); None when none does."""
    params = {"jid": job_id, "owner": owner_id, "state": DONE, "finished_at": now, "deadline": None, **values}
    if upload_key is None:
        return (await conn.execute(_FINISH, params)).first()
    return (await conn.execute(_FINISH_UPLOADED, {**params, "claim_key": upload_key})).first()


async def set_upload_keys(conn: AsyncConnection, keys: dict[str, str]) -> None:
    """Give each claimed job its claim's own upload key (job id -> key)."""
    if keys:
        await conn.execute(_SET_UPLOAD_KEY, [{"jid": jid, "ukey": key} for jid, key in keys.items()])


@dataclass(slots=True)
class Requeued:
    """What a requeue did to one request."""

    failed: bool = False  # the request failed more often than allowed: fault it as a whole
    faulted_jobs: int = 0  # forms that used up their own attempts (interrogation)
    faulted_costs: int = 0
    retried: dict[str, str] = field(default_factory=dict)  # old job id -> the new job that carries its work


# What a retried job does not inherit from the claim that failed it: everything but the work and its price.
_FRESH_CLAIM: dict[str, Any] = {
    "state": WAITING, "worker_id": None, "popped_at": None, "deadline": None, "finished_at": None,
    "upload_key": "", "uploaded": False, "result": "", "image_key": "", "censored": False, "gen_state": "",
    "gen_metadata": "", "scan_request": "", "upstream_id": "", "pruned": False,
}


async def requeue(conn: AsyncConnection, job_ids: list[str], max_faults: int, *, owner_id: int | None = None,
                  max_form_attempts: int = 3, now: float = 0.0) -> dict[str, Requeued]:
    """Give processing jobs back to the queue and count the failure.

    An image or text job comes back under a NEW id (AI Horde starts a new processing generation): the failed
    claim's row is closed as `aborted` (keeping its worker, so that worker's late submit answers AbortedGen)
    and a copy with the same cost, rank and seed waits in its place; the request's escrow is untouched, so
    the hold moves with the work. Image and text failures count on the request (faulted as a whole past
    `max_faults`); an interrogation form keeps its id (as AI Horde's forms do) and fails alone once it was
    attempted `max_form_attempts` times.
    """
    cond = [J.id.in_(job_ids), J.state == SQL_PROCESSING]
    if owner_id is not None:
        cond.append(owned_by(owner_id))
    form = J.kind == "interrogation"
    form_spent = and_(form, J.faults + 1 >= max_form_attempts)
    rows = (await conn.execute(
        update(_jobs).where(*cond).values(
            state=case((form_spent, FAULTED), (form, WAITING), else_=ABORTED), faults=J.faults + 1,
            worker_id=case((form, None), else_=J.worker_id), deadline=None,
            finished_at=case((and_(form, ~form_spent), None), else_=now))
        .returning(*_jobs.c))).all()
    out: dict[str, Requeued] = {}
    counts: dict[str, int] = {}
    fresh: list[dict[str, Any]] = []
    for r in rows:
        entry = out.setdefault(r.request_id, Requeued())
        counts[r.request_id] = counts.get(r.request_id, 0) + 1
        if r.state == FAULTED:
            entry.faulted_jobs += 1
            entry.faulted_costs += int(r.reward)
        elif r.state == ABORTED:
            new_id = str(uuid.uuid4())
            entry.retried[r.id] = new_id
            fresh.append({**r._mapping, **_FRESH_CLAIM, "id": new_id})
    if fresh:
        await conn.execute(_INSERT_JOB, fresh)
    kinds = {r.request_id: r.kind for r in rows}
    for rid, count in counts.items():
        faults = await conn.scalar(update(_requests).where(R.id == rid)
                                   .values(restarted=R.restarted + count, faults=R.faults + count)
                                   .returning(R.faults))
        out[rid].failed = kinds[rid] != "interrogation" and int(faults or 0) > max_faults
    return out


async def request_over(conn: AsyncConnection, request_id: str) -> bool:
    """The request was cancelled, expired or faulted: nothing of it should be served any more."""
    state = await conn.scalar(select(R.state).where(R.id == request_id))
    return state in (REQ_CANCELLED, REQ_EXPIRED, REQ_FAULTED, REQ_PRUNED)


async def unclaim(conn: AsyncConnection, job_ids: list[str], worker_id: str) -> None:
    """Put jobs just claimed (and never handed out) back in the queue, as if the pop had not taken them."""
    await conn.execute(update(_jobs).where(J.id.in_(job_ids), J.worker_id == worker_id, J.state == SQL_PROCESSING)
                       .values(state=WAITING, worker_id=None, popped_at=None, deadline=None, upload_key=""))


async def set_model(conn: AsyncConnection, job_ids: list[str], model: str) -> None:
    await conn.execute(_SET_MODEL, {"ids": job_ids, "model_in": model})


async def set_reward(conn: AsyncConnection, job_id: str, reward: int) -> None:
    await conn.execute(update(_jobs).where(J.id == job_id).values(reward=reward))


async def overdue_jobs(conn: AsyncConnection, now: float, limit: int = 500) -> list[Any]:
    return list((await conn.execute(
        select(J.id, J.worker_id, J.kind).where(J.state == SQL_PROCESSING, J.deadline < now).limit(limit))).all())


async def cancel_waiting(conn: AsyncConnection, request_id: str, now: float) -> tuple[int, int]:
    """Cancel a request's waiting jobs: (how many, their summed cost) for the refund."""
    rows = (await conn.execute(update(_jobs).where(J.request_id == request_id, J.state == SQL_WAITING)
                               .values(state=CANCELLED, finished_at=now).returning(J.reward))).all()
    return len(rows), sum(int(r.reward) for r in rows)


async def set_request_state(conn: AsyncConnection, request_id: str, state: str, now: float,
                            *, only_from: str = ACTIVE) -> bool:
    result = await conn.execute(update(_requests).where(R.id == request_id, R.state == only_from)
                                .values(state=state, finished_at=func.coalesce(R.finished_at, now)))
    return result.rowcount == 1


async def expirable(conn: AsyncConnection, now: float, expiry: float, limit: int = 500) -> list[str]:
    """Active requests older than `expiry` with no job popped within `expiry` and none in flight."""
    cutoff = now - expiry
    recent_pop = and_(J.popped_at.is_not(None), J.popped_at > cutoff)
    busy = exists().where(J.request_id == R.id, or_(J.state.in_([SQL_PROCESSING, HELD]), recent_pop))
    rows = await conn.execute(select(R.id).where(R.state == ACTIVE, R.created_at < cutoff, ~busy)
                              .limit(limit))
    return [r.id for r in rows]


async def prunable_images(conn: AsyncConnection, now: float, retention: float,
                          limit: int = 500) -> list[tuple[str, str]]:
    """Stored images of requests past retention (or expired): (job id, image key). A job's last upload (if
    its result was never published) goes too: see `prunable_uploads`."""
    cutoff = now - retention
    old = or_(R.state == REQ_EXPIRED, and_(R.finished_at.is_not(None), R.finished_at < cutoff,
                                           R.state != ACTIVE))
    # Shared images are the rating pool's and the open dataset's, favourites their owners': they are kept.
    starred = exists().where(Favourite.__table__.c.job_id == J.id)
    rows = await conn.execute(select(J.id, J.image_key).join(_requests, R.id == J.request_id)
                              .where(J.pruned.is_(False), J.image_key != "", old, R.shared.is_(False), ~starred,
                                     ~_OWED)
                              .limit(limit))
    return [(r.id, r.image_key) for r in rows]


async def prunable_sources(conn: AsyncConnection, now: float, retention: float,
                           limit: int = 500) -> list[tuple[str, list[str]]]:
    """Source images and masks of requests finished (or expired) longer than `retention` ago:
    (request id, keys). `forget_sources` marks them gone once they are deleted."""
    rows = await conn.execute(select(R.id, R.source_image, R.source_mask).where(
        R.state != ACTIVE, R.finished_at.is_not(None), R.finished_at < now - retention,
        or_(R.source_image != "", R.source_mask != "")).limit(limit))
    return [(r.id, [k for k in (r.source_image, r.source_mask) if k]) for r in rows]


async def forget_sources(conn: AsyncConnection, request_ids: list[str]) -> None:
    if request_ids:
        await conn.execute(update(_requests).where(R.id.in_(request_ids)).values(source_image="", source_mask=""))


async def prunable_uploads(conn: AsyncConnection, now: float, retention: float, limit: int = 500) -> list[str]:
    """Upload keys still recorded on jobs of requests past retention (a result that was published cleared its
    key; these are uploads of claims that failed, timed out or never submitted). Their keys are forgotten here."""
    rows = await conn.execute(select(J.id, J.upload_key).join(_requests, R.id == J.request_id)
                              .where(J.upload_key != "", R.state != ACTIVE, R.finished_at < now - retention)
                              .limit(limit))
    found = [(r.id, r.upload_key) for r in rows]
    if found:
        await conn.execute(update(_jobs).where(J.id.in_([jid for jid, _ in found])).values(upload_key=""))
    return [key for _, key in found]


async def mark_pruned(conn: AsyncConnection, job_ids: list[str], now: float, retention: float) -> None:
    if job_ids:
        await conn.execute(update(_jobs).where(J.id.in_(job_ids)).values(pruned=True))
    await conn.execute(update(_requests).where(
        R.state.in_(["done", "cancelled", "faulted"]), R.finished_at < now - retention, ~_OWED)
        .values(state=REQ_PRUNED))
