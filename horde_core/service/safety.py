"""Safety in the request path: who answers for a request, penalties checked before anything is
queued, and strikes recorded (with an audit entry) when a prompt is blocked or an image is csam."""

from __future__ import annotations

import math
from typing import Any

from horde_core.queue import lifecycle
from horde_core.safety import repo as safety_repo
from horde_core.safety.abuse import Rules, Subject, community_state, member_timeout, subject_of

from .base import ServiceBase
from .errors import Forbidden, NotFound, TooMany

PENALTIES = "penalties"  # the hint "is any penalty in force anywhere?"

_MESSAGES = {
    "member": ("UserTimeout", "You are timed out for {minutes} more minute(s) after requests against the rules."),
    "user": ("UserTimeout", "This API key is timed out for {minutes} more minute(s) after requests against the rules."),
    "ip": ("TimeoutIP", "Requests from your address are timed out for {minutes} more minute(s)."),
}


class SafetyMixin(ServiceBase):
    def safety_rules(self) -> Rules:
        s = self.config.safety
        return Rules(strike_ttl=s.strike_ttl, timeout_first=s.timeout_first, timeout_step=s.timeout_step,
                     community_window=s.community_window, community_throttle_at=s.community_throttle_at,
                     community_suspend_at=s.community_suspend_at, community_suspension=s.community_suspension)

    def subject(self, user_id: int, anonymous: bool, proxied_account: str | None, ipaddr: str) -> Subject:
        return subject_of(user_id, anonymous, proxied_account or "", ipaddr)

    async def _any_penalties(self, now: float) -> bool:
        """Whether any penalty is in force anywhere, re-read at most once a second (most of the time none is,
        and then the request path needs no read at all). A new penalty on any node sets it at once (`hints`)."""

        async def load() -> bool:
            async with self.db.read() as conn:
                return await safety_repo.any_active(conn, now)

        return await self.hints.maybe(PENALTIES, load)

    async def safety_gate(self, who: Subject) -> None:
        """Refuse requesters under a penalty; at most one indexed read on the request path."""
        now = self.clock.now()
        if not await self._any_penalties(now):
            return
        keys = who.penalty_keys()
        if not who.anonymous and f"user:{who.user_id}" not in keys:
            keys.append(f"user:{who.user_id}")  # a moderator's suspension of the account, however it asks
        async with self.db.read() as conn:
            rows = await safety_repo.active_penalties(conn, keys, now)
        for row in rows:
            minutes = max(1, math.ceil((row.until - now) / 60))
            kind = row.key.split(":", 1)[0]
            if row.state == "suspended" and kind == "user":
                raise Forbidden(f"This account is suspended by the horde's moderators for {minutes} more minute(s).",
                                rc="UserSuspended")
            if kind == "community":
                if row.state == "suspended":
                    raise Forbidden(f"Generation is suspended in this community for {minutes} more minute(s) "
                                    "after repeated requests against the rules.", rc="CommunitySuspended")
                interval = self.config.safety.throttle_interval
                if await self.limits.limited_every(f"throttle:{who.subject}", interval):
                    raise TooMany(f"This community is throttled after requests against the rules: one request "
                                  f"per {interval:.0f} s per member for {minutes} more minute(s).",
                                  rc="CommunityThrottled")
                continue
            rc, message = _MESSAGES.get(kind, _MESSAGES["user"])
            raise Forbidden(message.format(minutes=minutes), rc=rc)

    async def record_strike(self, who: Subject, reason: str, *, prompt: str = "", verdict: dict[str, Any] | None = None,
                            client_agent: str = "", action: str = "blocked", request_id: str = "") -> None:
        """A strike against the requester (and their community), with the penalties it earns, and an audit entry."""
        rules = self.safety_rules()
        now = self.clock.now()
        sanction = None
        async with self.db.transaction() as conn:
            await safety_repo.add_strike(conn, {
                "at": now, "expires_at": now + rules.strike_ttl, "user_id": who.user_id, "subject": who.subject,
                "community": who.community, "ipaddr": who.ipaddr[:64], "reason": reason, "detail": request_id})
            await safety_repo.log_block(conn, {
                "at": now, "user_id": who.user_id, "subject": who.subject, "community": who.community,
                "ipaddr": who.ipaddr[:64], "client_agent": client_agent[:200], "action": action,
                "prompt": prompt}, verdict or {})
            count = await safety_repo.live_strikes(conn, subject=who.subject, since=now - rules.strike_ttl, now=now)
            until = now + member_timeout(count, rules)
            for key in who.penalty_keys():
                if not key.startswith("community:"):
                    await safety_repo.set_penalty(conn, key, "timeout", until, reason, now)
            if who.community:
                recent = await safety_repo.live_strikes(conn, community=who.community,
                                                        since=now - rules.community_window, now=now)
                sanction = community_state(recent, rules)
                if sanction:
                    length = rules.community_suspension if sanction == "suspended" else rules.community_window
                    await safety_repo.set_penalty(conn, f"community:{who.community}", sanction, now + length,
                                                  f"{recent} strikes within {rules.community_window} s", now)
        self.hints.note(PENALTIES)
        if sanction:
            self.events.publish("community_sanction", {"community": who.community, "state": sanction})

    async def _strike_for_csam(self, request_id: str) -> None:
        """A worker's csam verdict is a strike against whoever asked (the member, never the bot)."""
        async with self.db.read() as conn:
            request = await lifecycle.request_row(conn, request_id)
        who = self.subject(int(request.user_id), int(request.user_id) == 0, request.proxied_account, request.ipaddr)
        await self.record_strike(who, "csam", prompt=request.prompt, verdict={"worker_verdict": "csam"},
                                 client_agent=request.client_agent, action="csam", request_id=request_id)

    # --- administration ---------------------------------------------------------------------

    async def community_strikes(self, community: str | None) -> list[dict[str, Any]]:
        """Live strikes of one community (None: every community, for the operator)."""
        async with self.db.read() as conn:
            rows = await safety_repo.strikes_of(conn, community, self.clock.now())
        return [{"at": r.at, "subject": r.subject, "community": r.community, "reason": r.reason} for r in rows]

    async def clear_community_strikes(self, community: str, subject: str | None = None) -> int:
        async with self.db.transaction() as conn:
            cleared = await safety_repo.clear_strikes(conn, community, subject)
            if subject is None:
                await safety_repo.lift(conn, f"community:{community}")
            else:
                await safety_repo.lift(conn, subject)
        return cleared

    async def set_community_sanction(self, community: str, state: str | None, seconds: float, actor: str) -> None:
        """The operator suspends (or lifts, with state None) a community by hand; rules won't override it."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            if state is None:
                if not await safety_repo.lift(conn, f"community:{community}"):
                    raise NotFound(f"{community} has no penalty.", rc="NoPenalty")
            else:
                await safety_repo.set_penalty(conn, f"community:{community}", state, now + seconds,
                                              f"set by {actor}", now, manual=True, only_if_not_manual=False)
        if state is not None:
            self.hints.note(PENALTIES)
        self.events.publish("community_sanction", {"community": community, "state": state or "lifted"})

    async def penalties(self) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            rows = await safety_repo.penalties_report(conn, self.clock.now())
        return [{"key": r.key, "state": r.state, "until": r.until, "reason": r.reason, "manual": bool(r.manual)}
                for r in rows]
