"""A party's budget: held from its host when it starts, paid out award by award, the rest returned.

The party row carries its escrow (ledger account `party:<id>`) the way a request row carries its own, so
"minted == balances + escrows + burned" keeps holding. Every payment is a conditional update on that
escrow checked by row count: however many entries race, a party never pays more than it holds.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.ledger.book import Movement, credit_user, debit_user, record, user_account
from horde_core.models import Party

_parties = Party.__table__
P = _parties.c


def party_account(party_id: str) -> str:
    return f"party:{party_id}"


async def hold_budget(conn: AsyncConnection, now: float, host_id: int, party_id: str, budget: int) -> bool:
    """Move the whole budget from the host into the party's escrow; False (write nothing more) when the host
    lacks it. Hosts cannot go into debt for a party (floor 0)."""
    if not await debit_user(conn, host_id, budget, 0):
        return False
    await conn.execute(update(_parties).where(P.id == party_id).values(escrow=P.escrow + budget))
    await record(conn, now, Movement(user_account(host_id), party_account(party_id), budget, "party_budget",
                                     party_id))
    return True


async def _escrow(conn: AsyncConnection, party_id: str) -> int:
    # FOR UPDATE on PostgreSQL (SQLite has one writer): racing payments queue instead of failing.
    return int(await conn.scalar(select(P.escrow).where(P.id == party_id, P.state == "running")
                                 .with_for_update()) or 0)


async def pay_award(conn: AsyncConnection, now: float, party_id: str, member_id: int, award: int,
                    job_id: str) -> tuple[int, int]:
    """Pay one entry the award, or what is left when less is: (paid, left afterwards); (0, 0) when the party
    holds nothing."""
    held = await _escrow(conn, party_id)
    amount = min(award, held)
    if amount <= 0:
        return 0, 0
    result = await conn.execute(update(_parties).where(P.id == party_id, P.state == "running", P.escrow >= amount)
                                .values(escrow=P.escrow - amount, paid=P.paid + amount))
    if result.rowcount != 1:
        return 0, 0
    await credit_user(conn, member_id, amount)
    await record(conn, now, Movement(party_account(party_id), user_account(member_id), amount, "party_award",
                                     job_id))
    return amount, held - amount


async def return_rest(conn: AsyncConnection, now: float, party_id: str, host_id: int) -> int:
    """Give the host back what the party did not pay out; returns that amount."""
    rest = int(await conn.scalar(select(P.escrow).where(P.id == party_id).with_for_update()) or 0)
    if rest <= 0:
        return 0
    result = await conn.execute(update(_parties).where(P.id == party_id, P.escrow == rest)
                                .values(escrow=0, refunded=P.refunded + rest))
    if result.rowcount != 1:
        return 0
    await credit_user(conn, host_id, rest)
    await record(conn, now, Movement(party_account(party_id), user_account(host_id), rest, "party_refund",
                                     party_id))
    return rest
