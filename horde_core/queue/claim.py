"""The atomic claim: hand a worker the best waiting jobs it may serve, in one statement.

SQLite serialises writers, so `UPDATE ... WHERE id IN (subquery) RETURNING` is atomic there.
PostgreSQL locks the chosen rows with `FOR UPDATE SKIP LOCKED`, so concurrent pops on any
number of nodes skip each other's rows instead of waiting or double-claiming.
Both walk the partial index of waiting jobs in rank order and stop at the first match.
A worker in maintenance claims nothing, whatever a node's cache of it says (the claim reads its row).
"""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    String,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import Job, Request, Worker
from horde_core.queue.matching import RequestTraits, WorkerProfile, pick_model, skip_reason, unpack
from horde_core.queue.states import PROCESSING, SQL_WAITING

_jobs = Job.__table__
_requests = Request.__table__
R = _requests.c
_W = Worker.__table__.c


def _serving(worker: WorkerProfile) -> ColumnElement[bool]:
    """The worker is not in maintenance nor paused right now (set on any node a moment ago counts)."""
    return exists(select(_W.id).where(_W.id == worker.id, _W.maintenance.is_(False), _W.paused.is_(False)))


def worker_filter(worker: WorkerProfile) -> list[ColumnElement[bool]]:
    """`matching.skip_reason` as SQL conditions on the requests table."""
    conds: list[ColumnElement[bool]] = []
    wid = f"|{worker.id}|"
    conds.append(or_(
        R.workers == "",
        and_(R.worker_blacklist.is_(True), not_(R.workers.contains(wid, autoescape=True))),
        and_(R.worker_blacklist.is_(False), R.workers.contains(wid, autoescape=True)),
    ))
    conds.append(or_(R.models == "", *[R.models.contains(f"|{m}|", autoescape=True)
                                       for m in sorted(worker.models)]))
    if not worker.nsfw:
        conds.append(R.nsfw.is_(False))
    for word in worker.blacklist:
        conds.append(not_(func.lower(R.prompt).contains(word.lower(), autoescape=True)))
    if not worker.trusted:
        conds.append(R.trusted_workers.is_(False))
    if worker.kind == "image":
        conds.append(R.pixels <= worker.max_pixels)
        for flag, allowed in (("img2img", worker.img2img), ("painting", worker.painting),
                              ("post_processing", worker.post_processing), ("lora", worker.lora)):
            if not allowed:
                conds.append(R[flag].is_(False))
    if worker.kind == "text":
        conds.append(R.max_context_length <= worker.max_context_length)
        conds.append(R.max_length <= worker.max_length)
        conds.append(or_(R.softprompt == "", R.softprompt.in_(worker.softprompts) if worker.softprompts
                         else false()))
    return conds


def _first_query(worker: WorkerProfile, priority: bool) -> Any:
    j = _jobs.alias("jw")
    q = (select(j.c.id, j.c.request_id)
         .select_from(j.join(_requests, _requests.c.id == j.c.request_id))
         .where(j.c.state == SQL_WAITING, *worker_filter(worker))
         .order_by(j.c.rank).limit(1))
    if not priority:
        return q.where(j.c.kind == worker.kind), j
    if not worker.priority_user_ids:
        return q.where(false()), j
    # The priority users' own jobs, found through their index (user_id first). The kind is checked on the
    # request, not the job: given `jobs.kind`, PostgreSQL's planner may prefer walking the whole queue
    # in rank order and filtering by user (it did, at 20,000 waiting: 8 ms a claim).
    return q.where(j.c.user_id.in_(worker.priority_user_ids), R.kind == worker.kind), j


def _any_priority_waiting(worker: WorkerProfile) -> ColumnElement[bool]:
    """Whether the worker's priority users have anything waiting: one probe of their index. Most of the time
    they have nothing, and the priority search is skipped at once."""
    if not worker.priority_user_ids:
        return false()
    w = _jobs.alias("jpw")
    return exists(select(w.c.id).where(w.c.user_id.in_(worker.priority_user_ids), w.c.state == SQL_WAITING))


@lru_cache(maxsize=2048)
def _claim_statement(dialect: str, worker: WorkerProfile, amount: int) -> Any:
    """The claim for one worker profile, built once: a worker polls with the same profile for hours,
    and building this statement costs more than running it."""
    values = {"state": PROCESSING, "worker_id": worker.id, "popped_at": bindparam("now", type_=Float),
              "deadline": bindparam("deadline", type_=Float)}
    J = _jobs.c
    if dialect == "postgresql":
        prio_q, jp = _first_query(worker, True)
        prio_q = prio_q.where(_any_priority_waiting(worker))
        gen_q, jg = _first_query(worker, False)
        fp = prio_q.with_for_update(of=jp, skip_locked=True).cte("fp")
        fg = gen_q.with_for_update(of=jg, skip_locked=True).cte("fg")
        both = union_all(select(fp.c.id, fp.c.request_id, literal(0).label("o")),
                         select(fg.c.id, fg.c.request_id, literal(1).label("o"))).subquery("both")
        first = select(both.c.id, both.c.request_id).order_by(both.c.o).limit(1).cte("first")
        more = (select(_jobs.c.id)
                .where(J.request_id == select(first.c.request_id).scalar_subquery(),
                       J.state == SQL_WAITING, J.id != select(first.c.id).scalar_subquery())
                .limit(max(0, amount - 1)).with_for_update(skip_locked=True).cte("more")
                .prefix_with("MATERIALIZED"))
        ids = union_all(select(first.c.id), select(more.c.id))
        # One statement does the whole pop: it also picks the model and returns the request's row.
        if worker.kind == "image":  # the claim's own upload keys (see `upload_key_of`)
            values["upload_key"] = _upload_key_sql()
        stmt = (update(_jobs).where(J.id.in_(ids), J.state == SQL_WAITING, _serving(worker), R.id == J.request_id)
                .values(**values, model=_model_for(worker)))
        return stmt.returning(J.id, J.request_id, J.seed, J.model, *[c.label(f"r_{c.name}") for c in R])
    else:
        prio_q, _ = _first_query(worker, True)
        gen_q, _ = _first_query(worker, False)
        pick = func.coalesce(
            prio_q.with_only_columns(prio_q.selected_columns.request_id).scalar_subquery(),
            gen_q.with_only_columns(gen_q.selected_columns.request_id).scalar_subquery(),
        )
        targets = select(J.id).where(J.request_id == pick, J.state == SQL_WAITING).limit(amount)
        stmt = update(_jobs).where(J.id.in_(targets), _serving(worker)).values(**values)
    return stmt.returning(J.id, J.request_id, J.seed)


def upload_key_of(job_id: str, claim: str) -> str:
    """Where the claim named `claim` uploads a job's result: a key of its own, never the published one."""
    return f"img/{job_id}.{claim}.webp"


def _upload_key_sql() -> Any:
    return literal("img/") + _jobs.c.id + literal(".") + bindparam("claim", type_=String) + literal(".webp")


def _model_for(worker: WorkerProfile) -> Any:
    """`matching.pick_model` in SQL: the first of the request's models (its order) the worker serves, else the
    worker's first."""
    served = sorted(worker.models)
    if not served:
        return literal("")
    # The names as one array parameter (a VALUES list would make the statement uncacheable: compiled per pop).
    names = (func.unnest(bindparam("served_models", value=served, type_=ARRAY(String))).table_valued("m")
             .render_derived(name="served"))
    at = func.strpos(R.models, literal("|") + names.c.m + literal("|"))
    first = select(names.c.m).where(at > 0).order_by(at).limit(1).scalar_subquery()
    return func.coalesce(first, bindparam("first_model", value=served[0], type_=String))


async def claim(conn: AsyncConnection, dialect: str, worker: WorkerProfile, amount: int, now: float,
                ttl: float, claim_token: str | None = None) -> list[Any]:
    """Claim up to `amount` waiting jobs of one request; returns rows of (id, request_id, seed)."""
    stmt = _claim_statement(dialect, worker, amount)
    params = {"now": now, "deadline": now + ttl}
    if dialect == "postgresql" and worker.kind == "image":
        params["claim"] = claim_token or ""
    return list((await conn.execute(stmt, params)).all())


async def claim_jobs(conn: AsyncConnection, dialect: str, worker: WorkerProfile, amount: int, now: float,
                     ttl: float, claim_token: str | None = None) -> tuple[list[Any], Any, str]:
    """The whole pop: claimed jobs (sorted by id), their request's row and the model the worker is to use;
    image jobs get the claim's upload keys (`upload_key_of(job, claim_token)`). PostgreSQL: one statement (run it in
    autocommit: one round trip). SQLite: four, in the caller's transaction."""
    claimed = sorted(await claim(conn, dialect, worker, amount, now, ttl, claim_token), key=lambda j: j.id)
    if not claimed:
        return [], None, ""
    if dialect == "postgresql":
        first = claimed[0]._mapping
        request = SimpleNamespace(**{c.name: first[f"r_{c.name}"] for c in R})
        return claimed, request, str(claimed[0].model or "")
    request = (await conn.execute(select(_requests).where(R.id == claimed[0].request_id))).first()
    model = pick_model(traits_of(request), worker)
    values: dict[str, Any] = {"model": model}
    if claim_token and worker.kind == "image":
        values["upload_key"] = _upload_key_sql()
    await conn.execute(update(_jobs).where(_jobs.c.id.in_([c.id for c in claimed])).values(**values),
                       {"claim": claim_token or ""})
    return claimed, request, model


async def claim_forms(conn: AsyncConnection, dialect: str, worker: WorkerProfile, image_forms: frozenset[str],
                      amount: int, now: float, ttl: float) -> list[Any]:
    """Claim up to `amount` interrogation forms the worker serves, across requests, best first.

    Image forms also need the source image to fit the worker's tile limit (`max_pixels`).
    """
    values = {"state": PROCESSING, "worker_id": worker.id, "popped_at": now, "deadline": now + ttl}
    J = _jobs.c
    j = _jobs.alias("jf")
    forms = sorted(worker.models)
    order: list[Any] = [j.c.rank]
    if worker.priority_user_ids:
        order.insert(0, case((j.c.user_id.in_(worker.priority_user_ids), 0), else_=1))
    pick = (select(j.c.id).select_from(j.join(_requests, _requests.c.id == j.c.request_id))
            .where(j.c.state == SQL_WAITING, j.c.kind == "interrogation", j.c.form.in_(forms),
                   or_(j.c.form.not_in(sorted(image_forms)), R.pixels <= worker.max_pixels),
                   *worker_filter(worker))
            .order_by(*order).limit(amount))
    if dialect == "postgresql":
        # Materialised so it runs once: PostgreSQL may re-run a LIMIT ... SKIP LOCKED subquery per row
        # and then claim more than `amount`.
        chosen = pick.with_for_update(of=j, skip_locked=True).cte("pick").prefix_with("MATERIALIZED")
        pick = select(chosen.c.id)
    stmt = update(_jobs).where(J.id.in_(pick), J.state == SQL_WAITING, _serving(worker)).values(**values)
    return list((await conn.execute(stmt.returning(J.id, J.request_id, J.form))).all())


def traits_of(row: Any) -> RequestTraits:
    """Build matching traits from a requests row."""
    return RequestTraits(
        kind=row.kind, models=unpack(row.models), workers=unpack(row.workers),
        worker_blacklist=bool(row.worker_blacklist), pixels=int(row.pixels), nsfw=bool(row.nsfw),
        trusted_workers=bool(row.trusted_workers), img2img=bool(row.img2img), painting=bool(row.painting),
        post_processing=bool(row.post_processing), lora=bool(row.lora), prompt=row.prompt,
        max_length=int(row.max_length), max_context_length=int(row.max_context_length),
        softprompt=row.softprompt or "",
    )


async def skipped(conn: AsyncConnection, worker: WorkerProfile, sample: int = 200) -> dict[str, int]:
    """Why the best waiting requests were passed over, counted per AI Horde `skipped` key.

    Only called when a claim found nothing, and bounded to `sample` requests.
    """
    best = (select(_jobs.c.request_id).where(_jobs.c.state == SQL_WAITING, _jobs.c.kind == worker.kind)
            .order_by(_jobs.c.rank).limit(sample).subquery())
    rows = (await conn.execute(select(_requests).where(R.id.in_(select(best.c.request_id))))).all()
    counts: dict[str, int] = {}
    for row in rows:
        reason = skip_reason(traits_of(row), worker)
        if reason and reason != "kind":
            counts[reason] = counts.get(reason, 0) + 1
    return counts
