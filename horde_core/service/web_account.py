"""Web logins and the member's own page (issue 15).

A login trades an API key (sent in a POST body, never in a URL) for a session token the web adapter keeps in an
HttpOnly cookie. The token is signed with the horde's secret and names the user, an expiry and a fingerprint of
the user's key hash, so it works on every node without a sessions table, and a new API key ends old sessions.
Forms carry a CSRF token derived from the session token. Wrong keys are counted per address (`login_guard`).
"""

from __future__ import annotations

import hmac
import json
import secrets
from typing import Any

from sqlalchemy import or_, select

from horde_core.ledger import book
from horde_core.models import Job, LedgerEntry, Request, User
from horde_core.queue.states import DONE
from horde_core.users import repo as users_repo
from horde_core.users.repo import UserRow
from horde_core.workers import repo as workers_repo

from .errors import Forbidden, InvalidAPIKey, TooMany
from .horde_status import _info
from .moderation import ModerationMixin
from .web_dto import Account, RequestView

_J, _R, _U, _L = Job.__table__.c, Request.__table__.c, User.__table__.c, LedgerEntry.__table__.c
TOKEN_VERSION = "s1"


class WebAccountMixin(ModerationMixin):
    # --- sessions ---------------------------------------------------------------------------

    def _fingerprint(self, key_hash: str | None) -> str:
        return self.signer.pseudonym("web-key", key_hash or "")[:16]

    def _session_token(self, user_id: int, key_hash: str | None) -> str:
        expires = int(self.clock.now() + self.config.web.session_hours * 3600)
        body = f"{TOKEN_VERSION}.{user_id}.{expires}.{secrets.token_hex(8)}.{self._fingerprint(key_hash)}"
        return f"{body}.{self.signer.pseudonym('web-session', body)}"

    async def web_login(self, apikey: str, ipaddr: str) -> tuple[UserRow, str]:
        """The user behind a key and a new session token; wrong keys count against the address."""
        wait = await self.login_guard.blocked_for(ipaddr)
        if wait:
            raise TooMany(f"Too many wrong API keys from your address; try again in {int(wait // 60) + 1} minute(s).",
                          rc="TooManyLoginAttempts")
        key = apikey.strip()
        try:
            if not key or len(key) > 200:
                raise InvalidAPIKey("Enter the API key you were given.")
            user = await self.authenticate(key, allow_anonymous=False)
        except InvalidAPIKey:
            await self.login_guard.failed(ipaddr)
            raise InvalidAPIKey("No user has this API key.", rc="InvalidAPIKey") from None
        async with self.db.read() as conn:
            key_hash = await conn.scalar(select(_U.api_key_hash).where(_U.id == user.id))
        return user, self._session_token(user.id, key_hash)

    async def web_session_user(self, token: str | None) -> UserRow | None:
        """The user a session token stands for, or None (bad signature, expired, or the key changed since)."""
        if not token or len(token) > 200:
            return None
        body, _, signature = token.rpartition(".")
        parts = body.split(".")
        if len(parts) != 5 or parts[0] != TOKEN_VERSION or not parts[1].isdigit() or not parts[2].isdigit():
            return None
        if not hmac.compare_digest(self.signer.pseudonym("web-session", body), signature):
            return None
        if int(parts[2]) < self.clock.now():
            return None
        async with self.db.read() as conn:
            user = await users_repo.by_id(conn, int(parts[1]))
            key_hash = await conn.scalar(select(_U.api_key_hash).where(_U.id == int(parts[1])))
        if user is None or user.anonymous or not hmac.compare_digest(self._fingerprint(key_hash), parts[4]):
            return None
        return user

    def csrf_token(self, session_token: str) -> str:
        return self.signer.pseudonym("web-csrf", session_token)

    def check_csrf(self, session_token: str | None, sent: str | None) -> None:
        if not session_token or not sent or not hmac.compare_digest(self.csrf_token(session_token), sent):
            raise Forbidden("This form has expired; reload the page and try again.", rc="InvalidCSRF")

    # --- the member's page -------------------------------------------------------------------

    async def account(self, user: UserRow, *, before_id: int | None = None) -> Account:
        """Kudos, ledger history (a page at a time), transfers, recent requests with their images, workers."""
        ledger = await self.kudos_history(user.id, limit=50, before_id=before_id)
        mine = book.user_account(user.id)
        async with self.db.read() as conn:
            fresh = await users_repo.by_id(conn, user.id)
            transfers = (await conn.execute(
                select(LedgerEntry.__table__).where(_L.reason == "transfer", or_(_L.debit == mine, _L.credit == mine))
                .order_by(_L.id.desc()).limit(20))).all()
            requests = (await conn.execute(
                select(_R.id, _R.kind, _R.state, _R.created_at, _R.prompt, _R.n).where(_R.user_id == user.id)
                .order_by(_R.created_at.desc()).limit(20))).all()
            jobs = (await conn.execute(
                select(_J.request_id, _J.image_key, _J.censored, _J.result, _J.pruned, _J.kind)
                .where(_J.request_id.in_([r.id for r in requests]), _J.state == DONE)
                .order_by(_J.finished_at))).all() if requests else []
            owned = await workers_repo.listing(conn, owner_id=user.id)
        by_request: dict[str, list[Any]] = {}
        for j in jobs:
            by_request.setdefault(j.request_id, []).append(j)
        views = []
        for r in requests:
            done = by_request.get(r.id, [])
            images = [self.download_url(j.image_key) for j in done
                      if r.kind == "image" and j.image_key and not j.pruned and not j.censored]
            texts = [j.result for j in done if r.kind == "text" and not j.censored]
            texts += [_form_text(j.result) for j in done if r.kind == "interrogation" and j.result]
            views.append(RequestView(r.id, r.kind, r.state, float(r.created_at), r.prompt, int(r.n), images, texts,
                                     sum(1 for j in done if j.censored)))
        flows = [{"at": t.at, "amount": int(t.amount) if t.credit == mine else -int(t.amount),
                  "with": (t.debit if t.credit == mine else t.credit).removeprefix("user:"), "note": t.note}
                 for t in transfers]
        since = self._online_since()
        workers = [_info(w, since) for w in owned]
        user = fresh or user
        return Account(user.id, user.display_name, user.kudos, user.trusted, user.created_at, self.is_web_admin(user),
                       ledger, flows, views, workers)


def _form_text(result: str) -> str:
    try:
        return json.dumps(json.loads(result), ensure_ascii=False)[:500]
    except ValueError:
        return result[:500]
