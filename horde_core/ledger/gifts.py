"""Gifts: kudos moved from one member to another for a reaction, within a community's limits.

Every check that could race (the caps, the cooldown, the sender's balance) runs after both
balance rows are locked in id order (PostgreSQL; SQLite has one writer), so 100 simultaneous
gifts from a sender holding enough for 50 move exactly 50 gifts' worth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.ledger import book
from horde_core.models import Gift, User

_gifts = Gift.__table__
G = _gifts.c
_users = User.__table__


@dataclass(frozen=True, slots=True)
class GiftRules:
    daily_cap: int = 500  # kudos one member may give per day in a community
    recipient_daily_cap: int = 1000  # kudos one member may receive per day in a community
    cooldown: float = 10.0  # seconds between two gifts of one sender


class GiftRefused(Exception):
    """Why a gift was not given; `code` is stable, the message is for the sender."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def lock_users(conn: AsyncConnection, dialect: str, *user_ids: int) -> None:
    if dialect == "postgresql":
        await conn.execute(select(_users.c.id).where(_users.c.id.in_(sorted(set(user_ids))))
                           .order_by(_users.c.id).with_for_update())


async def _sum(conn: AsyncConnection, *cond: Any) -> int:
    return int(await conn.scalar(select(func.coalesce(func.sum(G.amount), 0)).where(*cond)) or 0)


async def give(conn: AsyncConnection, dialect: str, now: float, *, community: str, sender: int, recipient: int,
               amount: int, message_ref: str, emoji: str, rules: GiftRules) -> None:
    """Record one gift and move its kudos, or raise GiftRefused (and write nothing)."""
    if sender == recipient:
        raise GiftRefused("self", "You can't gift kudos to yourself.")
    if amount <= 0:
        raise GiftRefused("amount", "A gift is at least 1 kudo.")
    await lock_users(conn, dialect, sender, recipient)
    seen = await conn.scalar(select(G.id).where(G.message_ref == message_ref, G.sender_id == sender, G.emoji == emoji))
    if seen is not None:
        raise GiftRefused("duplicate", "You already gifted kudos with this emoji on this message.")
    day = now - 86400
    last = await conn.scalar(select(func.max(G.at)).where(G.community == community, G.sender_id == sender))
    if last is not None and now - float(last) < rules.cooldown:
        raise GiftRefused("cooldown", f"Wait {rules.cooldown - (now - float(last)):.0f} s between gifts.")
    given = await _sum(conn, G.community == community, G.sender_id == sender, G.at >= day)
    if given + amount > rules.daily_cap:
        raise GiftRefused("daily_cap", f"You can gift {rules.daily_cap} kudos a day here; {given} given today.")
    received = await _sum(conn, G.community == community, G.recipient_id == recipient, G.at >= day)
    if received + amount > rules.recipient_daily_cap:
        raise GiftRefused("recipient_cap", "They have received as many gifts as this server allows today.")
    try:
        async with conn.begin_nested():
            await conn.execute(insert(_gifts).values(at=now, community=community, sender_id=sender,
                                                     recipient_id=recipient, amount=amount, message_ref=message_ref,
                                                     emoji=emoji))
    except IntegrityError:
        raise GiftRefused("duplicate", "You already gifted kudos with this emoji on this message.") from None
    if not await book.transfer(conn, now, sender, recipient, amount, "gift", floor=0, ref=message_ref[:200],
                               note=f"{emoji} in {community}"):
        raise GiftRefused("funds", f"You don't have {amount} kudos to give.")


async def leaderboard(conn: AsyncConnection, community: str, column: str, limit: int) -> list[tuple[int, int]]:
    """(user id, kudos) of the top givers (`sender_id`) or receivers (`recipient_id`) of a community."""
    who = G[column]
    rows = (await conn.execute(select(who, func.sum(G.amount).label("total")).where(G.community == community)
                               .group_by(who).order_by(func.sum(G.amount).desc(), who).limit(limit))).all()
    return [(int(r[0]), int(r[1])) for r in rows]
