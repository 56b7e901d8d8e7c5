"""Shared-key allowances: how much of its owner's kudos a shared key may still spend.

The owner's balance moves through the ledger as for any request (the hold); the key's allowance moves beside it,
in the same transaction, by a conditional update checked by row count: however many requests arrive at once,
a key never spends more than it has. A refunded job gives its kudos back to the key that paid for it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, String, bindparam, case, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import SharedKey, SharedKeyCharge

_keys = SharedKey.__table__
_charges = SharedKeyCharge.__table__
_AMOUNT = bindparam("amount", type_=BigInteger)
UNLIMITED = -1

# kudos -1 is "no limit" and stays so; 0 is an empty key (AI Horde refuses it even for a free request).
_SPEND = (update(_keys)
          .where(_keys.c.key_hash == bindparam("key", type_=String), _keys.c.kudos != 0,
                 or_(_keys.c.kudos == UNLIMITED, _keys.c.kudos >= _AMOUNT),
                 or_(_keys.c.expires_at.is_(None), _keys.c.expires_at > bindparam("now", type_=Float)))
          .values(kudos=case((_keys.c.kudos == UNLIMITED, UNLIMITED), else_=_keys.c.kudos - _AMOUNT),
                  utilized=_keys.c.utilized + _AMOUNT))


async def spend(conn: AsyncConnection, now: float, key_hash: str, request_id: str, amount: int) -> bool:
    """Take `amount` from the key's allowance for this request; False (nothing changed) when the key is gone,
    expired, empty or short of kudos."""
    result = await conn.execute(_SPEND, {"key": key_hash, "amount": amount, "now": now})
    if result.rowcount != 1:
        return False
    await conn.execute(insert(_charges).values(request_id=request_id, key_hash=key_hash, amount=amount))
    return True


async def give_back(conn: AsyncConnection, request_id: str, amount: int) -> None:
    """Refunded jobs of a request paid through a shared key: their kudos return to that key's allowance (a
    no-op for every other request, and for a key deleted since)."""
    if amount <= 0:
        return
    paid_by = select(_charges.c.key_hash).where(_charges.c.request_id == request_id).scalar_subquery()
    await conn.execute(
        update(_keys).where(_keys.c.key_hash == paid_by)
        .values(kudos=case((_keys.c.kudos == UNLIMITED, UNLIMITED), else_=_keys.c.kudos + _AMOUNT),
                utilized=_keys.c.utilized - _AMOUNT), {"amount": amount})


async def top_up(conn: AsyncConnection, key_hash: str, amount: int) -> None:
    """Kudos sent to a shared key (AI Horde's transfer to a key): they go to the owner through the ledger and
    raise the key's allowance by as much (an unlimited key stays unlimited)."""
    await conn.execute(
        update(_keys).where(_keys.c.key_hash == key_hash)
        .values(kudos=case((_keys.c.kudos == UNLIMITED, UNLIMITED), else_=_keys.c.kudos + _AMOUNT)),
        {"amount": amount})
