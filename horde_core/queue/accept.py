"""Accepting a request on PostgreSQL in one statement: the concurrency count, the kudos hold (a conditional debit
and its ledger row) and the request with its jobs, as data-modifying CTEs of one statement.

The caller runs it in its transaction after taking the requester's lock (service/generation.py), so the count
sees every request accepted before, and the rules hold as in the multi-statement form SQLite uses: the debit is
conditional and checked by its row count, its ledger row is written with it, and nothing is inserted when the
debit fails. What it saves is round trips: on PostgreSQL every statement is one, and a request accepted in
seven of them spent most of its time waiting on the network.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    String,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import Job, LedgerEntry, Request, User
from horde_core.queue.states import SQL_PROCESSING, SQL_WAITING

_jobs, _requests, _users, _ledger = Job.__table__, Request.__table__, User.__table__, LedgerEntry.__table__
J, R, U, L = _jobs.c, _requests.c, _users.c, _ledger.c


@lru_cache(maxsize=256)
def _statement(request_keys: tuple[str, ...], job_keys: tuple[str, ...], jobs: int) -> Any:
    uid = bindparam("uid", type_=Integer)
    total = bindparam("total", type_=BigInteger)
    limit = bindparam("limit", type_=Integer)
    active = (select(func.count()).select_from(_jobs)
              .where(J.user_id == uid, J.state.in_([SQL_WAITING, SQL_PROCESSING])).scalar_subquery())
    debit = (update(_users)
             .where(U.id == uid, or_(total == 0, U.kudos - total >= bindparam("floor", type_=BigInteger)),
                    or_(limit < 0, active + jobs <= limit))
             .values(kudos=U.kudos - total).returning(U.id).cte("debit"))
    request_row = select(*[bindparam(f"r_{k}", type_=R[k].type) for k in request_keys]).select_from(debit)
    request = (insert(_requests).from_select(list(request_keys), request_row, include_defaults=False)
               .returning(R.id).cte("req"))
    rows = [select(*[bindparam(f"j{i}_{k}", type_=J[k].type) for k in job_keys]).select_from(request)
            for i in range(jobs)]
    job_insert = insert(_jobs).from_select(list(job_keys), union_all(*rows) if jobs > 1 else rows[0],
                                           include_defaults=False).cte("ins_jobs")
    hold = insert(_ledger).from_select(
        ["at", "debit", "credit", "amount", "reason", "ref", "note"],
        select(bindparam("now", type_=Float), bindparam("hold_from", type_=String), bindparam("hold_to", type_=String),
               total, literal("hold"), bindparam("r_id", type_=String), literal(""))
        .select_from(debit).where(total != 0), include_defaults=False).cte("hold")
    accepted = select(func.count()).select_from(debit).scalar_subquery()
    return select(accepted.label("accepted"), active.label("active")).add_cte(job_insert, hold)


def _complete(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    """The row with every column's default filled in (an INSERT from a SELECT gets no client-side defaults)."""
    out = dict(row)
    for column in table.columns:
        if column.name not in out and column.default is not None and column.default.is_scalar:
            out[column.name] = column.default.arg
    return out


async def accept(conn: AsyncConnection, request: dict[str, Any], jobs: list[dict[str, Any]], total: int,
                 floor: int, limit: int | None, now: float) -> tuple[bool, int]:
    """Hold `total` kudos from the requester and queue the request and its jobs, or nothing at all.
    Returns (accepted, the requester's active jobs before). `limit` None: no concurrency limit."""
    request = _complete(_requests, request)
    jobs = [_complete(_jobs, job) for job in jobs]
    job_keys = tuple(jobs[0])
    stmt = _statement(tuple(request), job_keys, len(jobs))
    params: dict[str, Any] = {f"r_{k}": v for k, v in request.items()}
    for i, job in enumerate(jobs):
        params.update({f"j{i}_{k}": job[k] for k in job_keys})
    params.update(uid=request["user_id"], total=total, floor=floor, limit=-1 if limit is None else limit, now=now,
                  hold_from=f"user:{request['user_id']}", hold_to=f"escrow:{request['id']}")
    row = (await conn.execute(stmt, params)).one()
    return bool(row.accepted), int(row.active)
