"""Upstream mode, the core's side: which waiting jobs may go to a public horde, and what comes back.

The relay (`horde_core.upstream`) does the HTTP; everything it decides with the database is here, each
step one transaction. The upstream is a worker of the core: a system user with one worker per kind claims
jobs through the same conditional updates as any worker, settles through the same submit, and is paid
the same job reward (the house's account, which also pays the upstream in its own kudos).

What keeps the operator's key clean: a job goes upstream only after its request waited `wait_seconds` for
a local worker, never from a member, key, address or community under a penalty, never from a community the
upstream refused repeatedly (paused) or one over its daily budget, and never with a prompt our filter
blocks (checked again right before it leaves). Refusals and censored results from the upstream are
strikes against the member and their community here, so the upstream never has to act against us."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from horde_core.ledger import settlement
from horde_core.models import Meta
from horde_core.queue import lifecycle
from horde_core.queue import upstream as queue_up
from horde_core.queue.matching import WorkerProfile, unpack
from horde_core.queue.states import REQ_CANCELLED, REQ_EXPIRED, REQ_FAULTED, REQ_PRUNED
from horde_core.safety import repo as safety_repo
from horde_core.users import repo as users_repo
from horde_core.users.repo import UserRow
from horde_core.workers import repo as workers_repo

from .alchemy import AlchemyMixin
from .errors import HordeError
from .schemas import AlchemySubmitSpec, SubmitSpec, TextSubmitSpec
from .text import TextMixin
from .upstream_bodies import image_body, interrogation_body, text_body, upstream_account
from .upstream_books import EVERYONE, UpstreamBooksMixin

USER_KEY = "upstream_user_id"
_BIG = 1 << 30
_OVER = frozenset({REQ_CANCELLED, REQ_EXPIRED, REQ_FAULTED, REQ_PRUNED})


@dataclass(slots=True)
class UpstreamJob:
    """One local job at (or on its way to) the upstream."""

    job_id: str
    request_id: str
    kind: str
    worker_id: str
    community: str
    body: dict[str, Any]
    deadline: float
    upstream_id: str = ""
    form: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class UpstreamMixin(UpstreamBooksMixin, AlchemyMixin, TextMixin):
    _upstream_user: UserRow | None = None
    _upstream_workers: dict[str, str] | None = None
    # Set by the relay: per kind, the models the upstream serves now (None: any), for `is_possible`.
    upstream_offer: dict[str, frozenset[str] | None] | None = None

    # --- identity -------------------------------------------------------------------------

    async def upstream_identity(self) -> tuple[UserRow, dict[str, str]]:
        """The system user the upstream works as, and its worker per kind (created on first use). The
        workers never check in, so they count as offline: no uptime kudos, not a "local worker"."""
        if self._upstream_user is not None and self._upstream_workers is not None:
            return self._upstream_user, self._upstream_workers
        now = self.clock.now()
        async with self.db.transaction() as conn:
            stored = await conn.scalar(select(Meta.value).where(Meta.key == USER_KEY))
            user = await users_repo.by_id(conn, int(stored)) if stored else None
            if user is None:
                user = await users_repo.create(conn, now, "upstream relay", None, concurrency=0)
                await conn.execute(Meta.__table__.delete().where(Meta.key == USER_KEY))
                await conn.execute(Meta.__table__.insert().values(key=USER_KEY, value=str(user.id)))
            workers: dict[str, str] = {}
            for kind in ("image", "text", "interrogation"):
                name = f"upstream-{kind}-{user.id}"
                row = await workers_repo.by_name(conn, name)
                if row is None:
                    row = await workers_repo.create(conn, now, user.id, name, kind, {"models": []})
                    row = row or await workers_repo.by_name(conn, name)
                    assert row is not None
                    await workers_repo.set_fields(conn, row.id, last_check_in=0.0)  # never "online" here
                assert row is not None and row.owner_id == user.id
                workers[kind] = row.id
        self._upstream_user, self._upstream_workers = user, workers
        return user, workers

    def is_upstream_user(self, user_id: int) -> bool:
        return self._upstream_user is not None and self._upstream_user.id == user_id

    # --- claim ----------------------------------------------------------------------------

    async def upstream_claim(self, kind: str, models: frozenset[str] | None) -> UpstreamJob | None:
        """The best job of this kind that may go upstream now, claimed; None when there is none.

        `models`: what the upstream serves (None: anything). A job whose prompt our filter blocks is
        given back for good (local workers only) and the next one is tried."""
        settings = self.config.upstream
        _, workers = await self.upstream_identity()
        if not await self.maybe_waiting(kind):  # answered from memory most of the time
            return None
        for _ in range(5):
            now = self.clock.now()
            filt = await self._upstream_filter(now)
            if filt is None:
                return None
            profile = self._upstream_profile(kind, workers[kind], models)
            async with self.db.transaction() as conn:
                row = await queue_up.claim(conn, self.db.dialect, profile, filt, now, settings.stall_seconds)
                request = await lifecycle.request_row(conn, row.request_id) if row is not None else None
            if row is None or request is None:
                return None
            if kind != "interrogation" and (await self.prompt_filter()).check(request.prompt).blocked:
                await self._upstream_give_back(workers[kind], row.id, final=True)
                continue
            proxied, community = upstream_account(int(request.user_id), int(request.user_id) == 0,
                                                  request.proxied_account or "")
            if kind == "image":
                body = image_body(request, row.seed, proxied)
            elif kind == "text":
                body = text_body(request, proxied)
            else:  # a signed URL when ours is public (https), else the image itself, as for old workers
                source = await self._image_for_worker(request.source_image)
                body = interrogation_body(request, row.form, source, proxied)
            await self._upstream_count(community, sent=1)
            return UpstreamJob(row.id, row.request_id, kind, workers[kind], community, body,
                               now + settings.stall_seconds, form=row.form or "",
                               extra={"censor_nsfw": bool(request.censor_nsfw)})
        return None

    def _upstream_profile(self, kind: str, worker_id: str, models: frozenset[str] | None) -> WorkerProfile:
        settings = self.config.upstream
        allowed = frozenset(settings.models)
        # Unknown offer (None): only what the operator allows, or requests that name no model.
        offered = allowed if models is None else (models & allowed if allowed else models)
        return WorkerProfile(
            id=worker_id, owner_id=0, kind=kind, models=offered if kind != "interrogation" else frozenset(),
            nsfw=settings.allow_nsfw, max_pixels=_BIG, img2img=settings.allow_source_images,
            painting=settings.allow_source_images, post_processing=True, lora=True, max_length=_BIG,
            max_context_length=_BIG)

    async def _upstream_filter(self, now: float) -> queue_up.UpstreamFilter | None:
        """Who may not go upstream now; None when nobody may (paused for everyone, or over the budget)."""
        settings = self.config.upstream
        communities = await self._upstream_closed(now)
        if communities is None:
            return None
        users: list[int] = []
        accounts: list[str] = []
        ips: list[str] = []
        if await self._any_penalties(now):
            async with self.db.read() as conn:
                penalties = await safety_repo.penalties_report(conn, now)
            for p in penalties:
                kind, _, rest = p.key.partition(":")
                if kind == "member":
                    accounts.append(rest)
                elif kind == "user" and rest.isdigit():
                    users.append(int(rest))
                elif kind == "ip":
                    ips.append(rest)
                elif kind == "community":
                    communities.add(rest)
        return queue_up.UpstreamFilter(
            created_before=now - settings.wait_seconds, max_tries=settings.max_tries, forms=tuple(settings.forms),
            excluded_users=tuple(users), excluded_accounts=tuple(accounts), excluded_ips=tuple(ips),
            excluded_communities=tuple(sorted(communities)), allow_source_images=settings.allow_source_images)

    # --- the relay reports back ---------------------------------------------------------------

    async def upstream_sent(self, job: UpstreamJob, upstream_id: str) -> bool:
        """Record the upstream's id; False when the job is no longer ours (cancelled meanwhile)."""
        job.upstream_id = upstream_id
        async with self.db.transaction() as conn:
            return await queue_up.set_upstream_id(conn, job.job_id, job.worker_id, upstream_id)

    async def upstream_still_ours(self, job: UpstreamJob) -> bool:
        """False once the job was taken back (TTL sweep) or its request is over. A job of a request cancelled
        while it was upstream is cancelled and refunded here (the relay cancels it up there, too): unlike a
        local GPU, the upstream can stop, and the requester need not pay for what they no longer want."""
        async with self.db.read() as conn:
            held = await queue_up.still_held(conn, job.job_id, job.worker_id)
            request = await lifecycle.request_row(conn, job.request_id) if held else None
        if not held:
            return False
        if request is not None and request.state not in _OVER:
            return True
        now = self.clock.now()
        async with self.db.transaction() as conn:
            if await queue_up.release(conn, job.job_id, job.worker_id, retry_at=now, final=True,
                                      max_tries=self.config.upstream.max_tries):
                count, costs = await lifecycle.cancel_waiting(conn, job.request_id, now)
                await settlement.refund_jobs(conn, now, job.request_id, count, costs, "cancelled")
        return False

    async def upstream_failed(self, job: UpstreamJob, reason: str, *, final: bool = False,
                              count_try: bool = True) -> None:
        """The upstream could not do it (stall, fault, error): local workers serve the job; the upstream may
        try again later unless that was its last try. The requester pays once, whoever finishes it.
        `count_try=False`: the upstream itself was unwell, not this job; it keeps its tries."""
        if await self._upstream_give_back(job.worker_id, job.job_id, final=final, count_try=count_try):
            await self._upstream_count(job.community, failed=1)
        await self.upstream_health(error=f"{job.kind} job {job.job_id}: {reason}")

    async def upstream_refused(self, job: UpstreamJob, rc: str, message: str, *, operator_timeout: bool) -> None:
        """The upstream refused the request as against its rules: a strike against the member (and their
        community) here, the job stays local for good, and the community is paused when it repeats.
        `operator_timeout`: the upstream timed out our key or address: pause everyone for a while."""
        await self._upstream_give_back(job.worker_id, job.job_id, final=True)
        await self._upstream_strike(job, f"upstream refused ({rc}): {message}"[:500])
        if operator_timeout:
            await self._upstream_pause(EVERYONE, f"the upstream timed out the operator ({rc})")

    async def _upstream_strike(self, job: UpstreamJob, detail: str) -> None:
        async with self.db.read() as conn:
            request = await lifecycle.request_row(conn, job.request_id)
        if request is None:
            return
        who = self.subject(int(request.user_id), int(request.user_id) == 0, request.proxied_account, request.ipaddr)
        await self.record_strike(who, "upstream_refusal", prompt=request.prompt, verdict={"upstream": detail},
                                 client_agent=request.client_agent, action="blocked", request_id=request.id)
        await self._upstream_refusal_counted(job)

    async def _upstream_refusal_counted(self, job: UpstreamJob) -> None:
        """Count a refusal against the job's community; pause its upstream use when they repeat."""
        settings = self.config.upstream
        refused = await self._upstream_count(job.community, refused=1, window=settings.pause_window)
        if job.community and refused >= settings.pause_after:
            await self._upstream_pause(job.community, f"{refused} refusals by the upstream")

    async def upstream_finish_image(self, job: UpstreamJob, data: bytes, *, seed: str | None, censored: bool,
                                    csam: bool, kudos: float) -> None:
        """Store the upstream's image as our own result (its URLs expire) and settle the job as usual.
        A csam verdict is a strike (through the normal submit); a censored image the request did not ask
        to censor (the upstream's own filters acted) is one too."""
        state = "csam" if csam else ("censored" if censored else "ok")
        spec = SubmitSpec(id=job.job_id, generation=base64.b64encode(data).decode(), state=state, seed=seed,
                          censored=censored)
        await self._upstream_settle(job, kudos, lambda user: self.submit_image(user, spec))
        if censored and not csam and not job.extra.get("censor_nsfw"):
            await self._upstream_strike(job, "the upstream censored the image")
        elif csam:  # the submit struck the member already
            await self._upstream_refusal_counted(job)

    async def upstream_finish_text(self, job: UpstreamJob, text: str, *, censored: bool, kudos: float) -> None:
        spec = TextSubmitSpec(id=job.job_id, generation=text, state="censored" if censored else "ok")
        await self._upstream_settle(job, kudos, lambda user: self.submit_text(user, spec))

    async def upstream_finish_form(self, job: UpstreamJob, result: Any, *, kudos: float) -> None:
        spec = AlchemySubmitSpec(id=job.job_id, result=result, state="ok")
        await self._upstream_settle(job, kudos, lambda user: self.submit_interrogation(user, spec))

    async def _upstream_settle(self, job: UpstreamJob, kudos: float, submit: Any) -> None:
        """Submit the upstream's result as the relay's worker. What the upstream charged is counted once: by
        whoever settles the job (another node polling the same job after a restart gets DuplicateGen)."""
        user, _ = await self.upstream_identity()
        try:
            await submit(user)
        except HordeError as exc:
            if exc.rc in ("AbortedGen", "DuplicateGen", "InvalidJobID", "WrongCredentials"):
                return  # no longer ours: served locally, cancelled, or settled by another node
            await self.upstream_spent(job, kudos)
            await self.upstream_failed(job, f"unusable result: {exc.message}")
            return
        await self._upstream_count(job.community, kudos=kudos, done=1)
        await self.upstream_health(ok=True)

    async def upstream_spent(self, job: UpstreamJob, kudos: float) -> None:
        """Kudos the upstream charged for a job that brought nothing back (recorded all the same)."""
        await self._upstream_count(job.community, kudos=kudos)

    async def _upstream_give_back(self, worker_id: str, job_id: str, *, final: bool, count_try: bool = True) -> bool:
        """Back to the local queue; False when the relay no longer held the job."""
        settings = self.config.upstream
        now = self.clock.now()
        async with self.db.transaction() as conn:
            rid = await queue_up.release(conn, job_id, worker_id, retry_at=now + settings.retry_seconds, final=final,
                                         max_tries=settings.max_tries, count_try=count_try)
            kind = (await lifecycle.job_row(conn, job_id)).kind if rid else None
        if kind:
            self.note_waiting(kind)
        return kind is not None

    # --- restart and what the bot asks ---------------------------------------------------------

    async def upstream_resume(self) -> list[UpstreamJob]:
        """After a restart: the jobs still at the upstream (to poll again); those that never reached it
        go back to the local queue, so nothing the relay held is lost."""
        _, workers = await self.upstream_identity()
        async with self.db.read() as conn:
            rows = await queue_up.held_by(conn, list(workers.values()))
        jobs = []
        for r in rows:
            if not r.upstream_id:
                await self._upstream_give_back(r.worker_id, r.id, final=False)
                continue
            async with self.db.read() as conn:
                request = await lifecycle.request_row(conn, r.request_id)
            _, community = upstream_account(int(request.user_id), int(request.user_id) == 0,
                                            request.proxied_account or "")
            jobs.append(UpstreamJob(r.id, r.request_id, r.kind, r.worker_id, community, {},
                                    float(r.deadline or self.clock.now()), upstream_id=r.upstream_id, form=r.form or "",
                                    extra={"censor_nsfw": bool(request.censor_nsfw)}))
        return jobs

    async def is_possible(self, row: Any) -> bool:
        """A local worker could serve it, or the upstream could (then it is possible without local workers)."""
        return await super().is_possible(row) or self.upstream_possible(row)

    def upstream_possible(self, row: Any) -> bool:
        """Whether the upstream could take this request."""
        models = unpack(row.models or "")
        if not models:
            return self._upstream_kind(row.kind)
        return any(self.upstream_serves_model(row.kind, m) for m in models)

    def upstream_serves_model(self, kind: str, model: str) -> bool:
        """Whether a request for this model may be served upstream (the bot asks before refusing it)."""
        if not self._upstream_kind(kind):
            return False
        if kind == "interrogation":  # forms: what the operator lets go upstream
            return model in self.config.upstream.forms
        served = (self.upstream_offer or {})[kind]
        allowed = self.config.upstream.models
        return (served is None or model in served) and (not allowed or model in allowed)

    def upstream_models(self, kind: str) -> frozenset[str]:
        """The models of this kind the upstream serves for us now (what the operator allows of its offer)."""
        if not self._upstream_kind(kind):
            return frozenset()
        served = (self.upstream_offer or {})[kind] or frozenset()
        allowed = self.config.upstream.models
        return frozenset(m for m in served if not allowed or m in allowed)

    def _upstream_kind(self, kind: str) -> bool:
        return bool(self.upstream_offer) and kind in (self.upstream_offer or {})


__all__ = ["EVERYONE", "UpstreamJob", "UpstreamMixin"]
