"""Users, keys, identities and kudos transfers: the account use cases of the API, CLI and bot."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from horde_core.ledger import book
from horde_core.models import Job, LedgerEntry
from horde_core.queue.states import PROCESSING, WAITING
from horde_core.users import repo as users_repo
from horde_core.users.keys import hash_key, new_api_key
from horde_core.users.repo import UserRow
from horde_core.workers import repo as workers_repo

from . import sharing_rules as shared_keys
from .base import ServiceBase
from .dto import UserInfo
from .errors import BadRequest, Forbidden, NotFound


class AccountsMixin(ServiceBase):
    async def create_user(self, name: str, *, kudos: int = 0, trusted: bool = False,
                          concurrency: int | None = None) -> tuple[UserRow, str]:
        """A new user and its API key (the only time the key is seen)."""
        name = name.strip()
        if not name or len(name) > 100 or "#" in name:
            raise BadRequest("A user name needs 1-100 characters and no '#'.", rc="InvalidUsername")
        key = new_api_key()
        now = self.clock.now()
        async with self.db.transaction() as conn:
            user = await users_repo.create(conn, now, name, hash_key(key), trusted=trusted,
                                           concurrency=concurrency or self.config.core.default_concurrency)
            user = await self._starting_balance(conn, now, user, kudos or self.config.core.new_user_kudos)
        return user, key

    async def _starting_balance(self, conn: Any, now: float, user: UserRow, kudos: int) -> UserRow:
        if not kudos:
            return user
        await book.mint(conn, now, user.id, kudos, "starting_balance")
        fresh = await users_repo.by_id(conn, user.id)
        assert fresh is not None
        return fresh

    async def regenerate_key(self, user_id: int) -> str:
        key = new_api_key()
        async with self.db.transaction() as conn:
            await users_repo.set_key_hash(conn, user_id, hash_key(key))
        self.auth_cache.user_changed(user_id)  # the old key stops working on every node at once
        return key

    async def list_users(self) -> list[UserRow]:
        async with self.db.read() as conn:
            return await users_repo.listing(conn)

    async def user_by_name(self, name: str) -> UserRow:
        async with self.db.read() as conn:
            user = await users_repo.by_name(conn, name)
        if user is None:
            raise NotFound(f"No user '{name}'.", rc="UserNotFound")
        return user

    async def grant_kudos(self, name: str, amount: int, note: str = "") -> UserRow:
        """An administrator's grant (or, negative, a claw-back): audited through the ledger."""
        user = await self.user_by_name(name)
        now = self.clock.now()
        async with self.db.transaction() as conn:
            if amount >= 0:
                await book.mint(conn, now, user.id, amount, "admin_grant", note=note)
            else:  # a claw-back may take a balance below the floor; the burn keeps the books whole
                await book.debit_user(conn, user.id, -amount, -(2**62))
                await book.record(conn, now, book.Movement(book.user_account(user.id), book.BURN, -amount,
                                                           "admin_revoke", note=note))
            fresh = await users_repo.by_id(conn, user.id)
        assert fresh is not None
        self.events.publish("kudos_moved", {"from": None, "to": user.id, "amount": amount, "reason": "admin"})
        return fresh

    async def user_for_identity(self, identity: str, username: str, *, starting_kudos: int = 0) -> UserRow:
        """The core user behind an outside identity (`discord:<id>`), created on first use."""
        async with self.db.read() as conn:
            user = await users_repo.user_for_identity(conn, identity)
        if user is not None:
            return user
        now = self.clock.now()
        async with self.db.transaction() as conn:
            user = await users_repo.user_for_identity(conn, identity)
            if user is None:
                user = await users_repo.create(conn, now, username[:100].replace("#", "") or "member", None,
                                               concurrency=self.config.core.default_concurrency)
                await users_repo.link_identity(conn, now, identity, user.id)
                user = await self._starting_balance(conn, now, user, starting_kudos)
        return user

    async def users_for_identities(self, keys: list[str]) -> dict[str, int]:
        """Identities (`discord:<id>`) to user ids, for those that have an account; creates nobody."""
        async with self.db.read() as conn:
            return await users_repo.users_for_identities(conn, keys)

    async def identities_for_users(self, user_ids: list[int], prefix: str = "") -> dict[int, str]:
        async with self.db.read() as conn:
            return await users_repo.identities_for_users(conn, user_ids, prefix)

    async def transfer_kudos(self, sender: UserRow, recipient_name: str, amount: float,
                             note: str = "") -> int:
        """Give kudos to another user; the sender must hold them."""
        whole = int(amount)
        if whole < 1 or whole != amount:
            raise BadRequest("Transfer a whole number of kudos, at least 1.", rc="KudosValidationError")
        if sender.anonymous:
            raise Forbidden("Anonymous users cannot transfer kudos.", rc="AnonForbidden")
        lent = await shared_keys.lent_to(self.db, recipient_name, self.clock.now())  # a shared key (issue 16)
        recipient = lent.owner if lent else await self.user_by_name(recipient_name)
        if recipient.anonymous:
            raise BadRequest("Kudos cannot be sent to the anonymous user.", rc="KudosValidationError")
        if recipient.id == sender.id:
            raise BadRequest("You cannot transfer kudos to yourself.", rc="KudosValidationError")
        # Flagged accounts (a moderator's PUT /v2/users/{id}) neither send nor receive kudos, as on AI Horde: the
        # flag is how moderators stop kudos farming while they look into it.
        if sender.flagged:
            raise BadRequest("Your account has been flagged for suspicious activity and cannot send kudos. "
                             "Please contact the horde's moderators.", rc="SourceAccountFlagged")
        if recipient.flagged:
            raise BadRequest("The target account has been flagged for suspicious activity; transferring kudos to "
                             "it is blocked.", rc="TargetAccountFlagged")
        async with self.db.transaction() as conn:
            ok = await book.transfer(conn, self.clock.now(), sender.id, recipient.id, whole, "transfer",
                                     note=note)
            if ok and lent:
                await shared_keys.top_up(conn, lent, whole)
        if not ok:
            raise BadRequest(f"Not enough kudos to transfer {whole}.", rc="KudosValidationError")
        self.events.publish("kudos_moved", {"from": sender.id, "to": recipient.id, "amount": whole})
        return whole

    async def user_info(self, user_id: int) -> UserInfo:
        async with self.db.read() as conn:
            user = await users_repo.by_id(conn, user_id)
            if user is None:
                raise NotFound(f"User {user_id} not found.", rc="UserNotFound")
            return await self._user_info(conn, user)

    async def _user_info(self, conn: Any, user: UserRow) -> UserInfo:
        """A user's details read inside the caller's transaction (one user, or each of a page of them)."""
        user_id = user.id
        workers = await workers_repo.listing(conn, owner_id=user_id)
        account = book.user_account(user_id)
        L = LedgerEntry.__table__.c
        rows = (await conn.execute(
            select(L.reason, func.sum(L.amount)).where(L.credit == account).group_by(L.reason))).all()
        earned = {r: int(v or 0) for r, v in rows}
        rows = (await conn.execute(
            select(L.reason, func.sum(L.amount)).where(L.debit == account).group_by(L.reason))).all()
        spent = {r: int(v or 0) for r, v in rows}
        Jc = Job.__table__.c
        active = (await conn.execute(
            select(Jc.kind, Jc.request_id).where(Jc.user_id == user_id, Jc.state.in_([WAITING, PROCESSING]))
            .distinct())).all()
        done = (await conn.execute(
            select(Jc.kind, func.count()).where(Jc.user_id == user_id, Jc.state == "done")
            .group_by(Jc.kind))).all()
        usage = (await conn.execute(
            select(Jc.kind, func.sum(Jc.units))
            .where(Jc.user_id == user_id, Jc.state == "done").group_by(Jc.kind))).all()
        used = dict(usage)
        by_kind: dict[str, list[str]] = {"image": [], "text": [], "interrogation": []}
        for kind, rid in active:
            by_kind.setdefault(kind, []).append(rid)
        details = {
            "accumulated": earned.get("generation", 0) - spent.get("generation", 0),
            "gifted": spent.get("transfer", 0),
            "admin": earned.get("admin_grant", 0),
            "received": earned.get("transfer", 0),
            "recurring": earned.get("uptime", 0),
            "awarded": earned.get("starting_balance", 0) + earned.get("award", 0),
        }
        requested = dict(done)
        records = {
            # What this user's finished jobs were worth: megapixelsteps of images, tokens of texts.
            "usage": {"megapixelsteps": int(used.get("image", 0) or 0), "tokens": int(used.get("text", 0) or 0)},
            "contribution": {"megapixelsteps": sum(w.units_generated for w in workers if w.kind == "image"),
                             "tokens": sum(w.units_generated for w in workers if w.kind == "text")},
            "fulfillment": {"image": sum(w.requests_fulfilled for w in workers if w.kind == "image"),
                            "text": sum(w.requests_fulfilled for w in workers if w.kind == "text"),
                            "interrogation": sum(w.requests_fulfilled for w in workers
                                                 if w.kind == "interrogation")},
            "request": {"image": int(requested.get("image", 0)), "text": int(requested.get("text", 0)),
                        "interrogation": int(requested.get("interrogation", 0))},
        }
        return UserInfo(id=user.id, username=user.display_name, kudos=user.kudos, concurrency=user.concurrency,
                        trusted=user.trusted, created_at=user.created_at, worker_ids=[w.id for w in workers],
                        kudos_details=details, records=records, active_generations=by_kind,
                        moderator=user.moderator, flagged=user.flagged, customizer=user.customizer)
