"""Paying for jobs out of a request's escrow.

A request holds (cost + tax) x n from its requester when it is accepted. Every job then
settles exactly once: a finished job pays its worker's owner and burns the tax; a censored,
cancelled, expired or faulted job is refunded. So escrow reaches zero with the last job, and
"minted == balances + escrows + burned" holds after every transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    case,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.ledger import allowances
from horde_core.ledger.book import (
    BURN,
    MINT,
    Movement,
    credit_user,
    debit_user,
    escrow_account,
    record,
    user_account,
)
from horde_core.models import LedgerEntry, Request, User

_requests = Request.__table__
R = _requests.c


@dataclass(frozen=True, slots=True)
class Settled:
    requester_id: int
    job_cost: int
    job_tax: int
    request_state: str


def _settle(spent: bool) -> Any:
    """The escrow update that settles `count` jobs of a request costing `costs` (plus its tax)."""
    count = bindparam("count", type_=Integer)
    amount = bindparam("costs", type_=BigInteger) + R.job_tax * count
    completes = R.settled + count >= R.n
    values = {
        "escrow": R.escrow - amount,
        "settled": R.settled + count,
        "state": case((and_(completes, R.state == "active"), "done"), else_=R.state),
        "finished_at": case((completes, bindparam("now", type_=Float)), else_=R.finished_at),
    }
    if spent:
        values["kudos_spent"] = R.kudos_spent + amount
    return (update(_requests).where(R.id == bindparam("rid")).values(**values)
            .returning(R.user_id, R.job_tax, R.state))


# Built once (see ledger.book): these run on every submit.
_PAY = _settle(spent=True)
_REFUND = _settle(spent=False)


def _pay_in_one() -> Any:
    """PostgreSQL: the escrow update, its two ledger rows and the owner's credit as one statement (one round
    trip). The credit takes the owner's row lock, which every submit to that owner needs: callers run this
    last before the commit, so the lock is held only that long."""
    paid = _PAY.cte("paid")
    ledger = LedgerEntry.__table__
    cols = ["at", "debit", "credit", "amount", "reason", "ref", "note"]
    escrow = bindparam("escrow", type_=String)
    pay = select(bindparam("now", type_=Float), escrow, bindparam("owner_account", type_=String),
                 bindparam("costs", type_=BigInteger), literal("generation"), bindparam("job", type_=String),
                 literal("")).select_from(paid).where(bindparam("costs", type_=BigInteger) != 0)
    tax = select(bindparam("now", type_=Float), escrow, literal(BURN), paid.c.job_tax, literal("horde_tax"),
                 bindparam("job", type_=String), literal("")).select_from(paid).where(paid.c.job_tax != 0)
    rows = insert(ledger).from_select(cols, union_all(pay, tax), include_defaults=False).cte("pay_rows")
    users = User.__table__
    credit = (update(users).where(users.c.id == bindparam("owner", type_=Integer),
                                  bindparam("costs", type_=BigInteger) != 0)
              .values(kudos=users.c.kudos + bindparam("costs", type_=BigInteger)).cte("credit"))
    return select(paid.c.user_id, paid.c.job_tax, paid.c.state).add_cte(rows, credit)


_PAY_IN_ONE = _pay_in_one()


async def hold(conn: AsyncConnection, now: float, user_id: int, request_id: str, amount: int,
               floor: int) -> bool:
    """Move a request's whole price from its requester into escrow (the request row holds it).

    The balance row is touched last, so on PostgreSQL its lock is held only until the commit."""
    await record(conn, now, Movement(user_account(user_id), escrow_account(request_id), amount, "hold",
                                     request_id))
    return not amount or await debit_user(conn, user_id, amount, floor)


async def pay_job(conn: AsyncConnection, now: float, request_id: str, job_id: str, worker_owner: int,
                  cost: int) -> Settled:
    """A finished job: its cost goes to the worker's owner, the request's tax is burned."""
    if conn.dialect.name == "postgresql":
        row = (await conn.execute(_PAY_IN_ONE, {
            "rid": request_id, "count": 1, "costs": cost, "now": now, "escrow": escrow_account(request_id),
            "owner_account": user_account(worker_owner), "job": job_id, "owner": worker_owner})).one()
        return Settled(int(row.user_id), cost, int(row.job_tax), row.state)
    row = (await conn.execute(_PAY, {"rid": request_id, "count": 1, "costs": cost, "now": now})).one()
    esc = escrow_account(request_id)
    await record(conn, now,
                 Movement(esc, user_account(worker_owner), cost, "generation", job_id),
                 Movement(esc, BURN, int(row.job_tax), "horde_tax", job_id))
    await credit_user(conn, worker_owner, cost)
    return Settled(int(row.user_id), cost, int(row.job_tax), row.state)


async def refund_jobs(conn: AsyncConnection, now: float, request_id: str, count: int, costs: int,
                      reason: str) -> Settled | None:
    """Jobs that will not be paid for (cancelled, expired, faulted, censored): their costs and
    taxes go back to the requester."""
    if count <= 0:
        return None
    row = (await conn.execute(_REFUND, {"rid": request_id, "count": count, "costs": costs, "now": now})).one()
    amount = costs + int(row.job_tax) * count
    await record(conn, now, Movement(escrow_account(request_id), user_account(int(row.user_id)), amount,
                                     reason, request_id))
    await credit_user(conn, int(row.user_id), amount)
    await allowances.give_back(conn, request_id, amount)  # to the shared key that paid, if one did
    return Settled(int(row.user_id), costs, int(row.job_tax), row.state)


async def reward_from_mint(conn: AsyncConnection, now: float, user_id: int, amount: int, reason: str,
                           ref: str) -> None:
    """Kudos the horde itself pays (uptime, work on a job the requester is not charged for)."""
    await credit_user(conn, user_id, amount)
    await record(conn, now, Movement(MINT, user_account(user_id), amount, reason, ref))


__all__ = ["Settled", "hold", "pay_job", "refund_jobs", "reward_from_mint"]
