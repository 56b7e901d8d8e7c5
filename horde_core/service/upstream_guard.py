"""Upstream mode's guard: one member's abuse must never get the shared (operator's) upstream account timed
out, suspected or banned, nor stop everyone else.

What the public AI Horde (5.1.5) does, and what we do about it:
- A prompt its filter refuses gets 400 `CorruptPrompt`; it puts the *sender* in timeout (3, 9, 15 ...
  minutes, remembered for a day), marks the account suspicious once, and alerts its moderators about a
  proxy service whose members it refuses often. So before anything leaves, the prompt must pass our
  filter at its strictest (`fit_for_upstream`); a refused member stays local for a day, a community with
  repeated refusals is paused, and many refusals anywhere pause everyone.
- The sender is the connecting address, unless the request carries `Proxied-For` with the account's proxy
  passkey in `Proxy-Authorization`: then the value of `Proxied-For` is. It is used where an IP address
  is (block lists, VPN checks), so ours is an IPv6 unique-local address (fd00::/8) derived by HMAC from
  the member's strike subject: stable, one /64 per member, and it names nobody without our secret.
- While the sender is in timeout every generation request gets 403 `TimeoutIP` "... for N more seconds".
  That is never the member's fault: nobody is struck, the job keeps its tries. Without a passkey the
  sender is the operator's address, so everyone pauses for exactly the stated time. With one it is
  normally the member's own value (held alone for that time), unless a second member is timed out at the
  same time, which means the operator's address after all (the passkey was not honoured)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from horde_core.models import UpstreamPause
from horde_core.queue import lifecycle
from horde_core.queue import upstream as queue_up

from .upstream_books import EVERYONE, REFUSED, UpstreamBooksMixin

TIMEOUT = "timeout"  # reason prefix of the hold of one requester the upstream timed out
HOUR = 3600.0
_PAUSES = UpstreamPause.__table__


@dataclass(slots=True)
class UpstreamJob:
    """One local job at (or on its way to) the upstream. `subject`: who answers for it here (the strike
    subject, e.g. "member:discord:1:2"); `proxied_for`: that requester's Proxied-For value."""

    job_id: str
    request_id: str
    kind: str
    worker_id: str
    community: str
    body: dict[str, Any]
    deadline: float
    upstream_id: str = ""
    form: str = ""
    subject: str = ""
    proxied_for: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def fit_for_upstream(verdict: Any, nsfw: bool) -> bool:
    """Our prompt filter at its strictest, for what leaves the house: not only never a blocked prompt, but
    never any underage evidence (however weak) beside any sexual word (however mild), nor in an NSFW
    request. The public horde's filter is not ours; what might trip it stays with local workers."""
    if verdict.blocked:
        return False
    underage = verdict.score > 0 or "underage" in verdict.groups
    return not (underage and (verdict.sexual > 0 or nsfw))


def proxied_for_value(secret: bytes, subject: str) -> str:
    digest = hmac.new(secret, subject.encode(), hashlib.sha256).digest()
    return str(ipaddress.IPv6Address(b"\xfd" + digest[:15]))


class UpstreamGuardMixin(UpstreamBooksMixin):
    async def upstream_proxied_for(self, subject: str) -> str:
        """The Proxied-For value of a requester (their strike subject): the same on every node and run."""
        return proxied_for_value(await self._upstream_secret(), subject)

    async def upstream_refused(self, job: UpstreamJob, rc: str, message: str, *, proxying: bool) -> None:
        """The upstream refused the member's prompt: a strike against the member (and their community)
        here, the job stays local for good, and the member, their community or everyone is held back."""
        await self._upstream_give_back(job.worker_id, job.job_id, final=True)
        await self._upstream_strike(job, f"upstream refused ({rc}): {message}"[:500], proxying=proxying)

    async def upstream_timed_out(self, job: UpstreamJob, rc: str, message: str, seconds: float, *,
                                 proxying: bool) -> float | None:
        """The sender is in timeout upstream for `seconds`: nobody's fault here, so nobody is struck and the
        job keeps its tries. Returns when everyone may send again, or None when only this requester waits."""
        now = self.clock.now()  # it may go again as soon as the pause (or the requester's hold) is over
        await self._upstream_give_back(job.worker_id, job.job_id, final=False, count_try=False, retry_at=now)
        if proxying and job.subject and not await self._upstream_holds(TIMEOUT, active_at=now, exclude=job.subject):
            await self._upstream_pause(job.subject, f"{TIMEOUT}: the upstream timed out this requester ({rc})",
                                       seconds)
            await self.upstream_health(error=f"the upstream timed out {job.subject} for {seconds:.0f} s ({rc})")
            return None
        until = await self._upstream_pause(EVERYONE, f"the upstream timed out the operator's address ({rc}): "
                                                     f"{message}", seconds)
        await self.upstream_health(error=f"the upstream timed out the operator's address for {seconds:.0f} s ({rc})")
        return until

    async def _upstream_strike(self, job: UpstreamJob, detail: str, *, proxying: bool) -> None:
        async with self.db.read() as conn:
            request = await lifecycle.request_row(conn, job.request_id)
        if request is None:
            return
        who = self.subject(int(request.user_id), int(request.user_id) == 0, request.proxied_account, request.ipaddr)
        await self.record_strike(who, "upstream_refusal", prompt=request.prompt, verdict={"upstream": detail},
                                 client_agent=request.client_agent, action="blocked", request_id=request.id)
        await self._upstream_refusal_counted(job, detail, proxying=proxying)

    async def _upstream_refusal_counted(self, job: UpstreamJob, detail: str, *, proxying: bool) -> None:
        """Hold the member back for a day; pause their community after `pause_after` refused members within
        `pause_window` (after one without a passkey: then every refusal times out everyone); pause everyone
        after `pause_all_after` refusals within an hour."""
        settings = self.config.upstream
        now = self.clock.now()
        await self._upstream_count(job.community, refused=1)
        if job.subject:
            await self._upstream_pause(job.subject, f"{REFUSED}: {detail}", settings.hold_member_seconds,
                                       extend_only=True)
        if job.community:
            refused = await self._upstream_holds(REFUSED, since=now - settings.pause_window,
                                                 prefix=f"member:{job.community}:")
            if refused >= (settings.pause_after if proxying else 1):
                await self._upstream_pause(job.community, f"{refused} refusals by the upstream",
                                           settings.pause_seconds, extend_only=True)
        if settings.pause_all_after:
            everywhere = await self._upstream_holds(REFUSED, since=now - HOUR)
            if everywhere >= settings.pause_all_after:
                await self._upstream_pause(EVERYONE, f"{everywhere} refusals by the upstream within an hour",
                                           settings.pause_all_seconds, extend_only=True)

    async def _upstream_holds(self, reason: str, *, since: float | None = None, active_at: float | None = None,
                              prefix: str = "", exclude: str = "") -> int:
        """Holds of requesters for `reason` (set since `since`, or in force at `active_at`)."""
        C = _PAUSES.c
        query = select(func.count()).select_from(_PAUSES).where(C.reason.startswith(reason, autoescape=True))
        if since is not None:
            query = query.where(C.at >= since)
        if active_at is not None:
            query = query.where(C.until > active_at)
        if prefix:
            query = query.where(C.community.startswith(prefix, autoescape=True))
        if exclude:
            query = query.where(C.community != exclude)
        async with self.db.read() as conn:
            return int(await conn.scalar(query) or 0)

    async def _upstream_give_back(self, worker_id: str, job_id: str, *, final: bool, count_try: bool = True,
                                  retry_at: float | None = None) -> bool:
        """Back to the local queue (upstream again after `retry_seconds`, or `retry_at`); False when the relay
        no longer held the job."""
        settings = self.config.upstream
        now = self.clock.now()
        retry_at = now + settings.retry_seconds if retry_at is None else retry_at
        async with self.db.transaction() as conn:
            rid = await queue_up.release(conn, job_id, worker_id, retry_at=retry_at, final=final,
                                         max_tries=settings.max_tries, count_try=count_try)
            kind = (await lifecycle.job_row(conn, job_id)).kind if rid else None
        if kind:
            self.note_waiting(kind)
        return kind is not None


__all__ = ["TIMEOUT", "UpstreamGuardMixin", "UpstreamJob", "fit_for_upstream", "proxied_for_value"]
