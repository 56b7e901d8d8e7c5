"""Kudos as a social currency: gifts for reactions, a member's history, a community's leaderboard,
and the facts automatic roles are decided on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from horde_core.ledger import book
from horde_core.ledger.gifts import GiftRefused, GiftRules, give, leaderboard
from horde_core.models import Job, LedgerEntry, Rating, Worker

from .base import ServiceBase
from .errors import HordeError

_L = LedgerEntry.__table__.c
_J = Job.__table__.c
_W = Worker.__table__.c
_RT = Rating.__table__.c


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What role rules look at, for one user."""

    user_id: int
    kudos: int
    trusted: bool
    active_worker: bool
    images_generated: int
    account_age_days: float
    images_rated: int = 0


__all__ = ["GiftError", "GiftRules", "MemberFacts", "SocialMixin"]


class GiftError(HordeError):
    status = 400
    rc = "GiftRefused"


class SocialMixin(ServiceBase):
    async def gift_kudos(self, *, community: str, sender: int, recipient: int, amount: int, message_ref: str,
                         emoji: str, rules: GiftRules) -> None:
        """One gift per (message, sender, emoji), within the community's caps; GiftError says why not."""
        now = self.clock.now()
        try:
            async with self.db.transaction() as conn:
                await give(conn, self.db.dialect, now, community=community, sender=sender, recipient=recipient,
                           amount=amount, message_ref=message_ref, emoji=emoji, rules=rules)
        except GiftRefused as refused:
            raise GiftError(refused.message, rc=f"Gift{refused.code.title().replace('_', '')}") from None
        self.events.publish("kudos_moved", {"from": sender, "to": recipient, "amount": amount, "reason": "gift",
                                            "community": community})

    async def kudos_history(self, user_id: int, *, limit: int = 10,
                            before_id: int | None = None) -> list[dict[str, Any]]:
        """A member's ledger entries, newest first, a page at a time (pass the last id seen)."""
        account = book.user_account(user_id)
        q = (select(LedgerEntry.__table__).where(or_(_L.debit == account, _L.credit == account))
             .order_by(_L.id.desc()).limit(limit))
        if before_id is not None:
            q = q.where(_L.id < before_id)
        async with self.db.read() as conn:
            rows = (await conn.execute(q)).all()
        return [{"id": int(r.id), "at": r.at, "amount": int(r.amount) if r.credit == account else -int(r.amount),
                 "reason": r.reason, "ref": r.ref, "note": r.note} for r in rows]

    async def gift_leaderboard(self, community: str, *, limit: int = 10) -> dict[str, list[tuple[int, int]]]:
        async with self.db.read() as conn:
            return {"given": await leaderboard(conn, community, "sender_id", limit),
                    "received": await leaderboard(conn, community, "recipient_id", limit)}

    async def worker_earnings(self, user_ids: list[int], *, limit: int = 10) -> list[tuple[int, int]]:
        """(user id, kudos earned by their workers) for the given users, most first."""
        if not user_ids:
            return []
        accounts = [book.user_account(u) for u in user_ids]
        async with self.db.read() as conn:
            rows = (await conn.execute(
                select(_L.credit, func.sum(_L.amount)).where(_L.credit.in_(accounts),
                                                             _L.reason.in_(["generation", "uptime"]))
                .group_by(_L.credit).order_by(func.sum(_L.amount).desc()).limit(limit))).all()
        return [(int(credit.split(":", 1)[1]), int(total)) for credit, total in rows]

    async def member_facts(self, user_ids: list[int]) -> dict[int, MemberFacts]:
        """Everything role rules need for many users, in a few queries."""
        if not user_ids:
            return {}
        now = self.clock.now()
        online_since = now - self.config.core.worker_online_window
        from horde_core.models import User

        U = User.__table__.c
        async with self.db.read() as conn:
            users = (await conn.execute(select(U.id, U.kudos, U.trusted, U.created_at).where(U.id.in_(user_ids)))).all()
            active = {int(r[0]) for r in (await conn.execute(
                select(_W.owner_id).where(_W.owner_id.in_(user_ids), _W.last_check_in >= online_since,
                                          _W.maintenance.is_(False)).distinct())).all()}
            images = {int(u): int(n) for u, n in (await conn.execute(
                select(_J.user_id, func.count()).where(_J.user_id.in_(user_ids), _J.kind == "image",
                                                       _J.state == "done").group_by(_J.user_id))).all()}
            rated = {int(u): int(n) for u, n in (await conn.execute(
                select(_RT.rater_id, func.count()).where(_RT.rater_id.in_(user_ids)).group_by(_RT.rater_id))).all()}
        return {int(r.id): MemberFacts(user_id=int(r.id), kudos=int(r.kudos), trusted=bool(r.trusted),
                                       active_worker=int(r.id) in active, images_generated=images.get(int(r.id), 0),
                                       account_age_days=(now - float(r.created_at)) / 86400,
                                       images_rated=rated.get(int(r.id), 0))
                for r in users}
