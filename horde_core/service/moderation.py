"""What moderators do from the web pages (issue 15): find users, trust or suspend them, grant kudos, flag workers
or put them in maintenance, lift sanctions, edit and test the prompt filter. Each change is one transaction that
also writes an entry to the moderation log (the safety layer's audit table), naming who did what to whom.

Who may: the operators listed in `web.admins` (usernames, name#id or user ids).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select, update

from horde_core.ledger import book
from horde_core.models import Penalty, Strike, User
from horde_core.safety import repo as safety_repo
from horde_core.users import repo as users_repo
from horde_core.users.repo import UserRow
from horde_core.workers import repo as workers_repo

from .accounts import AccountsMixin
from .errors import BadRequest, Forbidden, NotFound
from .safety import PENALTIES
from .screening import ScreeningMixin
from .web_views import WebViewsMixin

FOREVER_HOURS = 24 * 365 * 10
_U, _S, _P = User.__table__.c, Strike.__table__.c, Penalty.__table__.c


class ModerationMixin(ScreeningMixin, WebViewsMixin, AccountsMixin):
    def is_web_admin(self, user: UserRow) -> bool:
        """An operator named in web.admins (by id, username or name#id), or a user with the moderator role."""
        if user.anonymous:
            return False
        if user.moderator:
            return True
        names = {str(a).strip() for a in self.config.web.admins}
        return bool(names & {str(user.id), user.username, user.display_name})

    def require_moderator(self, user: UserRow | None) -> UserRow:
        if user is None or not self.is_web_admin(user):
            raise Forbidden("Only the horde's moderators can do this.", rc="NotModerator")
        return user

    async def _moderation_entry(self, conn: Any, actor: UserRow, action: str, subject: str, text: str,
                                **details: Any) -> None:
        await safety_repo.log_block(conn, {
            "at": self.clock.now(), "user_id": actor.id, "subject": subject[:200], "community": "",
            "ipaddr": "", "client_agent": "web", "action": action[:16], "prompt": text},
            {"by": actor.display_name, **details})

    # --- users ------------------------------------------------------------------------------

    async def search_users(self, query: str, limit: int = 50) -> list[tuple[UserRow, dict[str, Any] | None]]:
        """Users by id, name#id or name (a case-insensitive prefix), with the sanction on their key if any."""
        q = query.strip()
        async with self.db.read() as conn:
            if not q:
                rows = await users_repo.listing(conn, limit=limit)
            else:
                exact = await users_repo.by_name(conn, q)
                found = (await conn.execute(
                    select(_U.id).where(func.lower(_U.username).startswith(q.lower(), autoescape=True))
                    .order_by(_U.id).limit(limit))).all()
                ids = ([exact.id] if exact else []) + [int(r.id) for r in found if not exact or r.id != exact.id]
                rows = [u for u in [await users_repo.by_id(conn, i) for i in ids[:limit]] if u is not None]
            keys = [f"user:{u.id}" for u in rows]
            penalties = {p.key: p for p in await safety_repo.active_penalties(conn, keys, self.clock.now())}
        return [(u, _penalty(penalties.get(f"user:{u.id}"))) for u in rows]

    async def set_user_trusted(self, actor: UserRow, user_id: int, trusted: bool) -> UserRow:
        async with self.db.transaction() as conn:
            target = await _user(conn, user_id)
            await conn.execute(update(User.__table__).where(_U.id == user_id).values(trusted=trusted))
            await self._moderation_entry(conn, actor, "trust" if trusted else "untrust", f"user:{user_id}",
                                         f"{'trusted' if trusted else 'untrusted'} {target.display_name}")
        # Every node drops the user's cached keys and their workers (profiles carry their owner's trust).
        self.auth_cache.user_changed(user_id)
        return await self.user_by_name(str(user_id))

    async def suspend_user(self, actor: UserRow, user_id: int, hours: float | None, reason: str = "") -> None:
        """Suspend a user's generation requests (API key and Discord alike) for `hours`, or lift it (None)."""
        now = self.clock.now()
        key = f"user:{user_id}"
        async with self.db.transaction() as conn:
            target = await _user(conn, user_id)
            if target.anonymous:
                raise BadRequest("The anonymous user is limited per address, not suspended.", rc="AnonForbidden")
            if hours is None:
                if not await safety_repo.lift(conn, key):
                    raise NotFound(f"{target.display_name} is not suspended.", rc="NoPenalty")
                await self._moderation_entry(conn, actor, "unsuspend", key, f"lifted {target.display_name}'s sanction")
            else:
                hours = min(max(hours, 0.0), FOREVER_HOURS) or FOREVER_HOURS
                await safety_repo.set_penalty(conn, key, "suspended", now + hours * 3600,
                                              f"suspended by {actor.display_name}: {reason}"[:500], now, manual=True,
                                              only_if_not_manual=False)
                await self._moderation_entry(conn, actor, "suspend", key,
                                             f"suspended {target.display_name} for {hours:g} h: {reason}", hours=hours)
        if hours is None:
            self.hints.forget(PENALTIES)
        else:
            self.hints.note(PENALTIES)  # every node checks penalties again at once
        self.snapshots.forget("metrics")

    async def moderator_grant(self, actor: UserRow, user_id: int, amount: int, note: str) -> UserRow:
        """Kudos granted (or, negative, taken back) through the ledger, with the moderator named."""
        if amount == 0 or abs(amount) > 10**9:
            raise BadRequest("Grant a non-zero amount of at most a billion kudos.", rc="KudosValidationError")
        now = self.clock.now()
        note = f"{actor.display_name}: {note}"[:500]
        async with self.db.transaction() as conn:
            target = await _user(conn, user_id)
            if target.anonymous:
                raise BadRequest("The anonymous user holds no kudos.", rc="KudosValidationError")
            if amount > 0:
                await book.mint(conn, now, user_id, amount, "admin_grant", note=note)
            else:
                await book.debit_user(conn, user_id, -amount, -(2**62))
                await book.record(conn, now, book.Movement(book.user_account(user_id), book.BURN, -amount,
                                                           "admin_revoke", note=note))
            await self._moderation_entry(conn, actor, "grant", f"user:{user_id}",
                                         f"{amount:+d} kudos to {target.display_name}: {note}", amount=amount)
        self.events.publish("kudos_moved", {"from": None, "to": user_id, "amount": amount, "reason": "admin"})
        return await self.user_by_name(str(user_id))

    # --- workers ----------------------------------------------------------------------------

    async def moderate_worker(self, actor: UserRow, worker_id: str, *, flagged: bool | None = None,
                              maintenance: bool | None = None) -> None:
        values = {k: v for k, v in {"flagged": flagged, "maintenance": maintenance}.items() if v is not None}
        if not values:
            return
        async with self.db.transaction() as conn:
            row = await workers_repo.by_id(conn, worker_id)
            if row is None:
                raise NotFound(f"Worker {worker_id} not found.", rc="WorkerNotFound")
            await workers_repo.set_fields(conn, worker_id, **values)
            for field, on in values.items():
                action = {"flagged": ("flag", "unflag"), "maintenance": ("maintenance", "resume")}[field]
                await self._moderation_entry(conn, actor, action[0] if on else action[1], f"worker:{worker_id}",
                                             f"{action[0] if on else action[1]} worker {row.name}")
        self.workers.worker_changed(row.id, row.name)  # every node re-reads it, at once
        self.snapshots.forget("workers", "status")

    # --- abuse ------------------------------------------------------------------------------

    async def abuse_overview(self, limit: int = 100) -> dict[str, Any]:
        """Live strikes per community and per member, sanctions in force, and the moderation log."""
        now = self.clock.now()
        live = (_S.cleared.is_(False), _S.expires_at > now)
        async with self.db.read() as conn:
            communities = (await conn.execute(
                select(_S.community, func.count()).where(*live).group_by(_S.community)
                .order_by(func.count().desc()).limit(limit))).all()
            members = (await conn.execute(
                select(_S.subject, _S.community, func.count(), func.max(_S.at)).where(*live)
                .group_by(_S.subject, _S.community).order_by(func.count().desc()).limit(limit))).all()
            penalties = await safety_repo.penalties_report(conn, now)
            log = await safety_repo.moderation_log(conn, None, limit)
        return {
            "communities": [{"community": c or "(API, no community)", "strikes": int(n)} for c, n in communities],
            "members": [{"subject": s, "community": c, "strikes": int(n), "last": float(at)}
                        for s, c, n, at in members],
            "penalties": [_penalty(p) for p in penalties],
            "log": [{"at": r.at, "action": r.action, "subject": r.subject, "community": r.community,
                     "text": r.prompt, "details": _json(r.verdict), "client_agent": r.client_agent} for r in log],
        }

    async def lift_sanction(self, actor: UserRow, key: str) -> None:
        """Lift the penalty on a key (member:…, user:…, ip:…, community:…); a community's strikes are cleared too,
        so the rules do not sanction it again at the next strike."""
        async with self.db.transaction() as conn:
            if not await safety_repo.lift(conn, key):
                raise NotFound(f"{key} has no sanction in force.", rc="NoPenalty")
            cleared = 0
            if key.startswith("community:"):
                cleared = await safety_repo.clear_strikes(conn, key.removeprefix("community:"))
            elif key.startswith("member:"):
                await conn.execute(update(Strike.__table__).where(_S.subject == key, _S.cleared.is_(False))
                                   .values(cleared=True))
            await self._moderation_entry(conn, actor, "lift", key, f"lifted the sanction on {key}", cleared=cleared)
        self.hints.forget(PENALTIES)
        self.snapshots.forget("metrics")
        if key.startswith("community:"):
            self.events.publish("community_sanction", {"community": key.removeprefix("community:"), "state": "lifted"})

    # --- the prompt filter --------------------------------------------------------------------

    async def moderator_set_terms(self, actor: UserRow, text: str) -> None:
        try:
            terms = json.loads(text)
        except ValueError as exc:
            raise BadRequest(f"The terms are not valid JSON: {exc}", rc="InvalidFilterTerms") from exc
        if not isinstance(terms, dict):
            raise BadRequest("The terms must be a JSON object.", rc="InvalidFilterTerms")
        await self.set_filter_terms(terms)
        async with self.db.transaction() as conn:
            await self._moderation_entry(conn, actor, "terms", "prompt_filter", "edited the prompt filter's terms",
                                         size=len(text))

    async def test_prompt(self, prompt: str, negative: str = "") -> dict[str, Any]:
        """What the filter in force says of a prompt, and what the replacement filter would queue instead."""
        checker = await self.prompt_filter()
        verdict = checker.check(prompt[:self.config.core.max_prompt_length], negative)
        rewritten = checker.rewrite(prompt, negative) if verdict.blocked else None
        return {**verdict.to_dict(), "rewritten": list(rewritten) if rewritten else None}


async def _user(conn: Any, user_id: int) -> UserRow:
    found = await users_repo.by_id(conn, user_id)
    if found is None:
        raise NotFound(f"User {user_id} not found.", rc="UserNotFound")
    return found


def _penalty(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"key": row.key, "state": row.state, "until": float(row.until), "reason": row.reason,
            "manual": bool(row.manual)}


def _json(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


__all__ = ["ModerationMixin"]
