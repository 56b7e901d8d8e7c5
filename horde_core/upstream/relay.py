"""The upstream relay: a worker of our core that serves jobs by being a client of a public horde.

Each `tick` polls what is at the upstream, then claims and sends what may go (see
`horde_core.service.upstream` for who may). Nothing it holds is only in memory: the upstream's id is
written on the job, so after a restart the relay polls it again, and a job the relay cannot finish goes
back to the local queue (the TTL sweep takes it back too if the relay dies). When the upstream cannot be
reached at all, every job it holds goes back at once (and is cancelled up there once it answers again).
Refusals and timeouts are sorted by the service (`upstream_guard`): a refused prompt is the member's, a
timeout is nobody's and pauses for exactly as long as the upstream says. Tests drive `tick` on a fake
clock; `run` repeats it every `poll_seconds` until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Any

from horde_core.service import HordeService, UpstreamJob

from .client import Refused, TimedOut, UpstreamClient, UpstreamError

log = logging.getLogger(__name__)

OFFER_TTL = 60.0  # how often the upstream's models, the operator's account and the passkey are re-read
CANCEL_MARGIN = 5.0  # give a stalled job back this long before its local deadline
MAX_ORPHANS = 200  # requests left at an unreachable upstream, remembered (in memory) to cancel later


class UpstreamRelay:
    def __init__(self, service: HordeService, client: UpstreamClient) -> None:
        self.service = service
        self.client = client
        self.settings = service.config.upstream
        self.inflight: dict[str, UpstreamJob] = {}
        self.backoff_until = 0.0
        self._backoffs = 0
        self._offer: dict[str, frozenset[str] | None] = {}
        self._offer_at = -math.inf
        self._passkey_at = -math.inf
        # Jobs given back while the upstream was unreachable: cancelled up there once it answers again.
        self._orphans: list[UpstreamJob] = []
        self._started = False

    async def start(self) -> None:
        """Pick up what a previous run left at the upstream."""
        if self._started:
            return
        self._started = True
        for job in await self.service.upstream_resume():
            self.inflight[job.job_id] = job

    async def tick(self) -> None:
        await self.start()
        await self._refresh_passkey()
        await self._poll()
        if self.service.clock.now() >= self.backoff_until:
            await self._cancel_orphans()
            await self._refresh_offer()
            await self._send_new()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("upstream relay: %s (kinds %s, after %.0f s without a local worker)", self.client.base,
                 ", ".join(self.settings.kinds), self.settings.wait_seconds)
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception as exc:  # the relay must outlive any one bad answer or database hiccup
                    log.exception("upstream relay tick failed")
                    self._back_off()
                    with contextlib.suppress(Exception):
                        await self.service.upstream_health(error=f"relay: {exc.__class__.__name__}: {exc}")
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.poll_seconds)
        finally:
            await self.client.close()

    def _back_off(self) -> None:
        self.backoff_until = max(self.backoff_until, self.service.clock.now() + self._next_delay())

    def _next_delay(self) -> float:
        """backoff_seconds, doubling with each trouble in a row (up to an hour)."""
        self._backoffs += 1
        return min(self.settings.backoff_seconds * 2 ** min(self._backoffs - 1, 12), 3600.0)

    async def _refresh_passkey(self) -> None:
        """The operator's proxy passkey (config or database): a new one from `upstream passkey` is used
        within a minute, without a restart."""
        now = self.service.clock.now()
        if now - self._passkey_at < OFFER_TTL:
            return
        self._passkey_at = now
        passkey, _ = await self.service.upstream_passkey()
        if passkey != self.client.passkey:
            log.info("upstream relay: proxying %s", "on (Proxied-For per member)" if passkey else "off")
        self.client.passkey = passkey

    async def _give_back_all(self, reason: str) -> None:
        """The upstream is out of reach: whatever it holds comes back to local workers now, tries kept."""
        for job in list(self.inflight.values()):
            self.inflight.pop(job.job_id, None)
            self._orphans = [*self._orphans, job][-MAX_ORPHANS:]
            await self.service.upstream_failed(job, reason, count_try=False)
        self._back_off()

    async def _cancel_orphans(self) -> None:
        while self._orphans:
            job = self._orphans[0]
            status = await self.client.cancel(job.kind, job.upstream_id, job.proxied_for)
            if status is None:
                return  # still out of reach: next time
            self._orphans.pop(0)
            await self.service.upstream_spent(job, _number(status.get("kudos")))

    # --- sending ----------------------------------------------------------------------------

    async def _refresh_offer(self) -> None:
        now = self.service.clock.now()
        if now - self._offer_at < OFFER_TTL:
            return
        offer: dict[str, frozenset[str] | None] = {}
        for kind in self.settings.kinds:
            if kind == "interrogation":
                offer[kind] = None
                continue
            try:
                offer[kind] = await self.client.models(kind)
            except UpstreamError as exc:
                offer[kind] = self._offer.get(kind)
                await self.service.upstream_health(error=f"models: {exc.message}")
        self._offer, self._offer_at = offer, now
        self.service.upstream_offer = offer
        with contextlib.suppress(UpstreamError):  # what the upstream's ledger has left: the books compare
            user = await self.client.find_user()
            await self.service.upstream_health(account={k: user.get(k) for k in ("username", "kudos", "service")})

    async def _send_new(self) -> None:
        limit = self.settings.max_concurrent
        while len(self.inflight) < limit and self.service.clock.now() >= self.backoff_until:
            sent = False
            for kind in self.settings.kinds:
                if len(self.inflight) >= limit or self.service.clock.now() < self.backoff_until:
                    break
                job = await self.service.upstream_claim(kind, self._offer.get(kind))
                if job is not None:
                    await self._send(job)
                    sent = True
            if not sent:
                return

    async def _send(self, job: UpstreamJob) -> None:
        proxying = self.client.proxying
        try:
            upstream_id = await self.client.submit(job.kind, job.body, job.proxied_for)
        except Refused as exc:
            log.warning("upstream refused job %s of %s: %s (%s)", job.job_id, job.subject, exc.message, exc.rc)
            await self.service.upstream_refused(job, exc.rc, exc.message, proxying=proxying)
            return
        except TimedOut as exc:
            seconds = exc.seconds if exc.seconds else self._next_delay()
            log.warning("upstream timeout (%s) for %.0f s on job %s", exc.rc, seconds, job.job_id)
            until = await self.service.upstream_timed_out(job, exc.rc, exc.message, seconds, proxying=proxying)
            if until is not None:
                self.backoff_until = max(self.backoff_until, until)
            return
        except UpstreamError as exc:
            # When the upstream (or the operator's account) is the trouble, the job keeps its tries.
            await self.service.upstream_failed(job, f"send: {exc.message}", count_try=not exc.backoff)
            if exc.unreachable:
                await self._give_back_all(f"unreachable: {exc.message}")
            elif exc.backoff:
                self._back_off()
            return
        self._backoffs = 0
        job.upstream_id = upstream_id
        if not await self.service.upstream_sent(job, upstream_id):
            await self._cancel(job)  # cancelled locally meanwhile
            return
        self.inflight[job.job_id] = job

    async def _cancel(self, job: UpstreamJob) -> None:
        """Stop it up there; what the upstream charged until then is recorded all the same."""
        status = await self.client.cancel(job.kind, job.upstream_id, job.proxied_for)
        if status is not None:
            await self.service.upstream_spent(job, _number(status.get("kudos")))

    # --- polling ----------------------------------------------------------------------------

    async def _poll(self) -> None:
        for job in list(self.inflight.values()):
            if not await self.service.upstream_still_ours(job):
                self.inflight.pop(job.job_id, None)
                await self._cancel(job)  # cancelled, expired or taken back
                continue
            if self.service.clock.now() >= job.deadline - CANCEL_MARGIN:
                self.inflight.pop(job.job_id, None)
                await self._cancel(job)
                await self.service.upstream_failed(job, "stalled at the upstream")
                continue
            try:
                finished = await self._poll_one(job)
            except UpstreamError as exc:
                if exc.unreachable:  # nothing up there is in reach: everything comes back now
                    await self._give_back_all(f"poll: {exc.message}")
                    return
                if 400 <= exc.status < 500 and exc.status != 429:  # the upstream lost or refused it
                    await self.service.upstream_failed(job, f"poll: {exc.message}")
                    finished = True
                else:  # unreachable or unwell: ask again next time, until the job's deadline
                    await self.service.upstream_health(error=f"poll: {exc.message}")
                    continue
            if finished:
                self.inflight.pop(job.job_id, None)

    async def _poll_one(self, job: UpstreamJob) -> bool:
        """Poll one job; True once it is settled here (finished or given back)."""
        if job.kind == "image":
            check = await self.client.check(job.upstream_id, job.proxied_for)
            if check.get("faulted"):
                await self.service.upstream_failed(job, "faulted at the upstream")
                return True
            if not check.get("done"):
                return False
        status = await self.client.status(job.kind, job.upstream_id, job.proxied_for)
        kudos = _number(status.get("kudos"))
        if job.kind == "interrogation":
            return await self._finish_form(job, status, kudos)
        if status.get("faulted"):
            await self.service.upstream_spent(job, kudos)
            await self.service.upstream_failed(job, "faulted at the upstream")
            return True
        if not status.get("done"):
            return False
        generations = status.get("generations")
        if not isinstance(generations, list) or not generations or not isinstance(generations[0], dict):
            await self.service.upstream_spent(job, kudos)
            await self.service.upstream_failed(job, "finished without a generation")
            return True
        gen: dict[str, Any] = generations[0]
        state = str(gen.get("state") or "ok")
        model = gen.get("model") if isinstance(gen.get("model"), str) else ""
        if job.kind == "text":
            await self.service.upstream_finish_text(job, str(gen.get("text") or ""),
                                                    censored=state == "censored", kudos=kudos, model=model)
            return True
        meta = gen.get("gen_metadata") if isinstance(gen.get("gen_metadata"), list) else []
        csam = state == "csam" or any(isinstance(m, dict) and m.get("value") == "csam" for m in meta)
        censored = csam or bool(gen.get("censored")) or state == "censored"
        try:
            data = await self.client.image(str(gen.get("img") or ""))
        except UpstreamError as exc:
            await self.service.upstream_spent(job, kudos)
            await self.service.upstream_failed(job, exc.message)
            return True
        seed = gen.get("seed")
        await self.service.upstream_finish_image(job, data, seed=None if seed is None else str(seed)[:32],
                                                 censored=censored, csam=csam, kudos=kudos, model=model,
                                                 proxying=self.client.proxying)
        return True

    async def _finish_form(self, job: UpstreamJob, status: dict[str, Any], kudos: float) -> bool:
        state = status.get("state")
        forms = status.get("forms")
        if state == "faulted":
            await self.service.upstream_failed(job, "faulted at the upstream")
            return True
        if state != "done":
            return False
        if not isinstance(forms, list) or not forms or not isinstance(forms[0], dict):
            await self.service.upstream_failed(job, "finished without a result")
            return True
        result = forms[0].get("result")
        value = result.get(job.form) if isinstance(result, dict) else None
        if value is None:
            await self.service.upstream_failed(job, "finished without a result")
            return True
        await self.service.upstream_finish_form(job, {job.form: value}, kudos=kudos)
        return True


def _number(value: Any) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 0.0


__all__ = ["UpstreamRelay"]
