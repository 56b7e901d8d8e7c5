"""The AI Horde's user administration over the API (issue 16): the users leaderboard, user details by
privilege, PUT /v2/users/{id} and POST /v2/kudos/award.

Who may do what follows AI Horde: moderators change trust, flags, the customizer role, concurrency, kudos and
suspicion; making someone a moderator needs an operator (`web.admins`), so a moderator cannot mint more of
themselves; a user may rename themselves. Every change is written to the moderation log in the same
transaction as the change, and kudos move only through the ledger. User 0 (anonymous) never changes.

Suspicion, which AI Horde counts per user, is here the number of live strikes on the user's API key
(`user:<id>`); resetting it clears them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from horde_core.ledger import book
from horde_core.safety import repo as safety_repo
from horde_core.users import repo as users_repo
from horde_core.users.repo import UserRow

from .admin_schemas import ModifyUserSpec
from .dto import UserInfo
from .errors import BadRequest, Forbidden, NotFound
from .moderation import ModerationMixin
from .roles import ROLES

USERS_PER_PAGE = 25
LAST_PAGE = 10_000  # AI Horde answers an empty list past this page


@dataclass(frozen=True, slots=True)
class UserView:
    """A user's details as one viewer may see them: how privileged the viewer is, and what that shows."""

    info: UserInfo
    privilege: int = 0
    suspicion: int = 0
    styles: list[dict[str, str]] = field(default_factory=list)


class UsersAdminMixin(ModerationMixin):
    def is_operator(self, user: UserRow | None) -> bool:
        """An operator named in `web.admins`: AI Horde's ADMINS, above the moderators."""
        if user is None or user.anonymous:
            return False
        names = {str(a).strip() for a in self.config.web.admins}
        return bool(names & {str(user.id), user.username, user.display_name})

    def user_privilege(self, viewer: UserRow | None, user_id: int) -> int:
        """0 public, 1 the user themselves, 2 a moderator: how much of a user's details a viewer sees."""
        if viewer is None or viewer.anonymous:
            return 0
        if self.is_web_admin(viewer):
            return 2
        return 1 if viewer.id == user_id else 0

    async def users_page(self, page: int, sort: str) -> list[UserView]:
        """GET /v2/users: 25 users a page, richest first (or oldest first with sort=age)."""
        if page > LAST_PAGE:
            return []
        sort = sort if sort in ("kudos", "age") else "kudos"
        offset = (max(page, 1) - 1) * USERS_PER_PAGE
        async with self.db.read() as conn:
            rows = await users_repo.page(conn, sort=sort, offset=offset, limit=USERS_PER_PAGE)
            infos = [await self._user_info(conn, u) for u in rows]
        return [UserView(info, styles=await self.user_styles(u)) for u, info in zip(rows, infos, strict=True)]

    async def user_details(self, viewer: UserRow | None, user_id: int) -> UserView:
        """A user's details, the viewer's privilege over them, their suspicion (live strikes on their key) and
        their styles (the private ones too for themselves and moderators)."""
        privilege = self.user_privilege(viewer, user_id)
        async with self.db.read() as conn:
            user = await users_repo.by_id(conn, user_id)
            if user is None:
                raise NotFound(f"User {user_id} not found.", rc="UserNotFound")
            info = await self._user_info(conn, user)
            suspicion = await self._suspicion(conn, user_id)
        return UserView(info, privilege, suspicion, await self.user_styles(user, private=privilege >= 1))

    async def _suspicion(self, conn: Any, user_id: int) -> int:
        now = self.clock.now()
        return await safety_repo.live_strikes(conn, subject=f"user:{user_id}", since=0.0, now=now)

    def _check_modify(self, actor: UserRow, user_id: int, spec: ModifyUserSpec) -> None:
        unsupported = spec.unsupported()
        if unsupported:
            raise BadRequest(f"This horde does not support: {', '.join(unsupported)}.", rc="UnsupportedUserField",
                             errors={name: "not supported by this horde" for name in unsupported})
        moderated = [n for n in ("kudos", "concurrency", *ROLES, "reset_suspicion") if getattr(spec, n) is not None]
        if not moderated and spec.username is None:
            raise BadRequest("No usermod operations selected!", rc="NoUserModSelected")
        if moderated or actor.id != user_id:
            self.require_moderator(actor)
        if spec.moderator is not None and not self.is_operator(actor):
            raise Forbidden("Only the horde's operators (web.admins) can make or unmake moderators.", rc="NotAdmin")
        name = (spec.username or "").strip()
        if spec.username is not None and (len(name) < 3 or "#" in name or not name.isprintable()):
            raise BadRequest("A user name has 3-100 characters, no '#' and no control characters.",
                             rc="InvalidUsername")

    async def modify_user(self, actor: UserRow, user_id: int, spec: ModifyUserSpec) -> dict[str, Any]:
        """PUT /v2/users/{id}: every requested change or none (one transaction), each one logged; the answer
        names the new value of each field changed, in AI Horde's ModifyUser shape."""
        self._check_modify(actor, user_id, spec)
        out: dict[str, Any] = {}
        subject = f"user:{user_id}"
        async with self.db.transaction() as conn:
            target = await users_repo.by_id(conn, user_id)
            if target is None:
                raise NotFound(f"User {user_id} not found.", rc="UserNotFound")
            if target.anonymous:
                raise BadRequest("The anonymous user cannot be modified.", rc="AnonForbidden")
            name = target.display_name
            for role in ROLES:
                value = getattr(spec, role)
                if value is not None:
                    await users_repo.set_fields(conn, user_id, **{role: value})
                    await self._moderation_entry(conn, actor, f"{'' if value else 'un'}{role}", subject,
                                                 f"{role} {'on' if value else 'off'} for {name}", **{role: value})
                    out[role] = value
            if spec.concurrency is not None:
                await users_repo.set_fields(conn, user_id, concurrency=spec.concurrency)
                await self._moderation_entry(conn, actor, "concurrency", subject,
                                             f"concurrency of {name} set to {spec.concurrency}",
                                             concurrency=spec.concurrency)
                out["concurrency"] = spec.concurrency
            if spec.username is not None:
                new_name = spec.username.strip()
                await users_repo.set_fields(conn, user_id, username=new_name)
                await self._moderation_entry(conn, actor, "rename", subject, f"{name} renamed to {new_name}")
                out["username"] = f"{new_name}#{user_id}"
            if spec.reset_suspicion is not None:
                if spec.reset_suspicion:
                    cleared = await safety_repo.clear_strikes(conn, "", subject)
                    await self._moderation_entry(conn, actor, "reset_suspicion", subject,
                                                 f"cleared {cleared} strikes of {name}", cleared=cleared)
                out["new_suspicion"] = await self._suspicion(conn, user_id)
            if spec.kudos is not None:
                if spec.kudos:
                    await self._adjust_kudos(conn, actor, target, spec.kudos, "adjusted through the API")
                fresh = await users_repo.by_id(conn, user_id)
                assert fresh is not None
                out["new_kudos"] = float(fresh.kudos)
        self.auth_cache.user_changed(user_id)  # cached keys carry the roles; every node re-reads them
        if spec.kudos:
            self.events.publish("kudos_moved", {"from": None, "to": user_id, "amount": spec.kudos, "reason": "admin"})
        return out

    async def _adjust_kudos(self, conn: Any, actor: UserRow, target: UserRow, amount: int, why: str) -> None:
        """A moderator's grant (or, negative, claw-back) through the ledger, and its log entry."""
        note = f"{actor.display_name}: {why}"[:500]
        now = self.clock.now()
        if amount > 0:
            await book.mint(conn, now, target.id, amount, "admin_grant", note=note)
        else:  # a claw-back may take a balance below the floor; the burn keeps the books whole
            await book.debit_user(conn, target.id, -amount, -(2**62))
            await book.record(conn, now, book.Movement(book.user_account(target.id), book.BURN, -amount,
                                                       "admin_revoke", note=note))
        await self._moderation_entry(conn, actor, "grant", f"user:{target.id}",
                                     f"{amount:+d} kudos to {target.display_name}: {note}", amount=amount)

    async def award_kudos(self, actor: UserRow, username: str, amount: int) -> int:
        """POST /v2/kudos/award: kudos minted for a user (ledger reason `award`, counted as `awarded`)."""
        self.require_moderator(actor)
        note = f"{actor.display_name}: awarded through the API"
        async with self.db.transaction() as conn:
            target = await users_repo.by_name(conn, username.strip())
            if target is None:
                raise BadRequest("Invalid target username.", rc="InvalidAwardUsername")
            if target.anonymous:
                raise BadRequest("Cannot award anon. No go.", rc="KudosAwardToAnon")
            if target.flagged:
                raise BadRequest("Target user is rejected: they are flagged.", rc="KudosValidationError")
            await book.mint(conn, self.clock.now(), target.id, amount, "award", note=note)
            await self._moderation_entry(conn, actor, "award", f"user:{target.id}",
                                         f"awarded {amount} kudos to {target.display_name}", amount=amount)
        self.events.publish("kudos_moved", {"from": None, "to": target.id, "amount": amount, "reason": "award"})
        return amount


__all__ = ["USERS_PER_PAGE", "UserView", "UsersAdminMixin"]
