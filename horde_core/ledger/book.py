"""The ledger: every kudo that moves is a row here, written with the balance change it explains.

Debits are conditional updates checked by row count (`... WHERE kudos - :amount >= :floor`),
never a read followed by a write, so concurrent use cases cannot overdraw an account.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import LedgerEntry, Party, Request, User

MINT = "mint"
BURN = "burn"

_users = User.__table__
_requests = Request.__table__
_ledger = LedgerEntry.__table__
_parties = Party.__table__

# Hot statements are built once: building one costs ~10x executing it (SQLAlchemy compiles
# and caches by structure, but constructing and keying a fresh statement is Python work).
_AMOUNT = bindparam("amount", type_=BigInteger)
_INSERT_LEDGER = insert(_ledger)
_DEBIT = (update(_users).where(_users.c.id == bindparam("uid"), _users.c.kudos - _AMOUNT >= bindparam("floor"))
          .values(kudos=_users.c.kudos - _AMOUNT))
_CREDIT = update(_users).where(_users.c.id == bindparam("uid")).values(kudos=_users.c.kudos + _AMOUNT)


def user_account(user_id: int) -> str:
    return f"user:{user_id}"


def escrow_account(request_id: str) -> str:
    return f"escrow:{request_id}"


@dataclass(frozen=True, slots=True)
class Movement:
    debit: str
    credit: str
    amount: int
    reason: str
    ref: str = ""
    note: str = ""


async def record(conn: AsyncConnection, at: float, *movements: Movement) -> None:
    """Append ledger rows (one statement, however many)."""
    rows = [
        {"at": at, "debit": m.debit, "credit": m.credit, "amount": m.amount, "reason": m.reason,
         "ref": m.ref, "note": m.note}
        for m in movements
        if m.amount
    ]
    if rows:
        await conn.execute(_INSERT_LEDGER, rows)


async def debit_user(conn: AsyncConnection, user_id: int, amount: int, floor: int) -> bool:
    """Take `amount` from a user if the balance stays at or above `floor`."""
    result = await conn.execute(_DEBIT, {"uid": user_id, "amount": amount, "floor": floor})
    return result.rowcount == 1


async def credit_user(conn: AsyncConnection, user_id: int, amount: int) -> None:
    if amount:
        await conn.execute(_CREDIT, {"uid": user_id, "amount": amount})


async def mint(conn: AsyncConnection, at: float, user_id: int, amount: int, reason: str,
               ref: str = "", note: str = "") -> None:
    """Create kudos for a user (grants, worker uptime, starting balances)."""
    await credit_user(conn, user_id, amount)
    await record(conn, at, Movement(MINT, user_account(user_id), amount, reason, ref, note))


async def transfer(conn: AsyncConnection, at: float, sender: int, recipient: int, amount: int,
                   reason: str, *, floor: int = 0, ref: str = "", note: str = "") -> bool:
    """Move kudos between users; False (and nothing written) when the sender lacks them."""
    if not await debit_user(conn, sender, amount, floor):
        return False
    await credit_user(conn, recipient, amount)
    await record(conn, at, Movement(user_account(sender), user_account(recipient), amount, reason, ref, note))
    return True


async def totals(conn: AsyncConnection) -> dict[str, int]:
    """Sums used by the invariant check: minted == balances + escrows + burned."""
    minted = await conn.scalar(select(func.coalesce(func.sum(_ledger.c.amount), 0))
                               .where(_ledger.c.debit == MINT))
    burned = await conn.scalar(select(func.coalesce(func.sum(_ledger.c.amount), 0))
                               .where(_ledger.c.credit == BURN))
    balances = await conn.scalar(select(func.coalesce(func.sum(_users.c.kudos), 0)))
    escrows = await conn.scalar(select(func.coalesce(func.sum(_requests.c.escrow), 0)))
    held = await conn.scalar(select(func.coalesce(func.sum(_parties.c.escrow), 0)))  # party budgets not paid out
    return {"minted": int(minted or 0), "burned": int(burned or 0), "balances": int(balances or 0),
            "escrows": int(escrows or 0) + int(held or 0)}
