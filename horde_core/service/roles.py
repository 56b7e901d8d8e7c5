"""Roles from the operator's console: `python main.py user role NAME --moderator --no-flagged ...`.

The first moderator cannot be made from the web pages (only moderators reach them), so the operator sets
roles from the command line. One transaction changes the named roles only and writes a moderation-log entry
naming the command line as the actor, so the log shows every role change whoever made it.
"""

from __future__ import annotations

from sqlalchemy import update

from horde_core.models import User
from horde_core.safety import repo as safety_repo
from horde_core.users import repo as users_repo
from horde_core.users.repo import UserRow

from .base import ServiceBase
from .errors import BadRequest, NotFound

ROLES = ("moderator", "customizer", "flagged", "trusted")
_U = User.__table__.c


class RolesMixin(ServiceBase):
    async def set_user_roles_cli(self, name: str, **changes: bool) -> UserRow:
        """Set the roles named in `changes` (moderator, customizer, flagged, trusted) on the user `name`
        (name, name#id or id) and return the user as it is now; no change writes nothing."""
        unknown = set(changes) - set(ROLES)
        if unknown:
            raise BadRequest(f"Unknown role {', '.join(sorted(unknown))}; roles are {', '.join(ROLES)}.")
        async with self.db.transaction() as conn:
            user = await users_repo.by_name(conn, name)
            if user is None:
                raise NotFound(f"No user '{name}'.", rc="UserNotFound")
            if user.anonymous and changes:
                raise BadRequest("The anonymous user has no roles.", rc="AnonForbidden")
            changed = {role: on for role, on in changes.items() if getattr(user, role) != on}
            if not changed:
                return user
            await conn.execute(update(User.__table__).where(_U.id == user.id).values(**changed))
            text = ", ".join(f"{'+' if on else '-'}{role}" for role, on in changed.items())
            await safety_repo.log_block(conn, {
                "at": self.clock.now(), "user_id": user.id, "subject": f"user:{user.id}", "community": "",
                "ipaddr": "", "client_agent": "cli", "action": "roles", "prompt": f"{user.display_name}: {text}"},
                {"by": "the command line", **changed})
            fresh = await users_repo.by_id(conn, user.id)
        assert fresh is not None
        # Every node drops the user's cached keys: a cached UserRow carries the old roles.
        self.auth_cache.user_changed(user.id)
        return fresh


def role_names(user: UserRow) -> list[str]:
    """The roles a user holds, in the order ROLES lists them."""
    return [role for role in ROLES if getattr(user, role)]


__all__ = ["ROLES", "RolesMixin", "role_names"]
