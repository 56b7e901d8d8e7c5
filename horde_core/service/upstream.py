"""Upstream mode, the core's side: which waiting jobs may go to a public horde, and what comes back.

The relay (`horde_core.upstream`) does the HTTP; everything it decides with the database is here, each
step one transaction. The upstream is a worker of the core: a system user with one worker per kind claims
jobs through the same conditional updates as any worker, settles through the same submit, and is paid
the same job reward (the house's account, which also pays the upstream in its own kudos).

What keeps the operator's key clean: a job goes upstream only after its request waited `wait_seconds` for
a local worker, never from a member, key, address or community under a penalty, never from a requester or
community held back after the upstream's refusals (see `upstream_guard`) or one over its daily budget, and
only with a prompt that passes our filter at its strictest (checked right before it leaves). Refusals
and csam verdicts from the upstream are strikes against the member and their community here, so the
upstream never has to act against us."""

from __future__ import annotations

import base64
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
from .upstream_books import EVERYONE, SUBJECT_PREFIXES
from .upstream_guard import UpstreamGuardMixin, UpstreamJob, fit_for_upstream

USER_KEY = "upstream_user_id"
_BIG = 1 << 30
_OVER = frozenset({REQ_CANCELLED, REQ_EXPIRED, REQ_FAULTED, REQ_PRUNED})


class UpstreamMixin(UpstreamGuardMixin, AlchemyMixin, TextMixin):
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

        `models`: what the upstream serves (None: anything). A job whose prompt does not pass our filter at
        its strictest is given back for good (local workers only) and the next one is tried."""
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
            if kind != "interrogation" and not fit_for_upstream((await self.prompt_filter()).check(request.prompt),
                                                                 kind == "image" and bool(request.nsfw)):
                await self._upstream_give_back(workers[kind], row.id, final=True)
                continue
            anonymous = int(request.user_id) == 0
            proxied, community = upstream_account(int(request.user_id), anonymous, request.proxied_account or "")
            subject = self.subject(int(request.user_id), anonymous, request.proxied_account, request.ipaddr).subject
            if kind == "image":
                body = image_body(request, row.seed, proxied)
            elif kind == "text":
                body = text_body(request, proxied)
            else:  # a signed URL when ours is public (https), else the image itself, as for old workers
                source = await self._image_for_worker(request.source_image)
                body = interrogation_body(request, row.form, source, proxied)
            await self._upstream_count(community, sent=1)
            return UpstreamJob(row.id, row.request_id, kind, workers[kind], community, body,
                               now + settings.stall_seconds, form=row.form or "", subject=subject,
                               proxied_for=await self.upstream_proxied_for(subject),
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
        closed = await self._upstream_closed(now)
        if closed is None:
            return None
        communities = {k for k in closed if not k.startswith(SUBJECT_PREFIXES)}
        keys = [k for k in closed if k.startswith(SUBJECT_PREFIXES)]  # requesters held back after refusals
        if await self._any_penalties(now):
            async with self.db.read() as conn:
                keys += [p.key for p in await safety_repo.penalties_report(conn, now)]
        users: list[int] = []
        accounts: list[str] = []
        ips: list[str] = []
        for key in keys:
            kind, _, rest = key.partition(":")
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

    async def upstream_finish_image(self, job: UpstreamJob, data: bytes, *, seed: str | None, censored: bool,
                                    csam: bool, kudos: float, model: str = "", proxying: bool = False) -> None:
        """Store the upstream's image as our own result (its URLs expire) and settle the job as usual
        (a censored image is refunded, as from local workers). A csam verdict is always a strike (through the
        normal submit) and holds the member back like a refusal; a censor for NSFW is never one: an SFW
        request asks for it (`censor_nsfw`), and the model's output is not the member's abuse either way."""
        state = "csam" if csam else ("censored" if censored else "ok")
        spec = SubmitSpec(id=job.job_id, generation=base64.b64encode(data).decode(), state=state, seed=seed,
                          censored=censored)
        if await self._upstream_settle(job, kudos, lambda user: self.submit_image(user, spec), model) and csam:
            await self._upstream_refusal_counted(job, "the upstream found the image csam", proxying=proxying)

    async def upstream_finish_text(self, job: UpstreamJob, text: str, *, censored: bool, kudos: float,
                                   model: str = "") -> None:
        spec = TextSubmitSpec(id=job.job_id, generation=text, state="censored" if censored else "ok")
        await self._upstream_settle(job, kudos, lambda user: self.submit_text(user, spec), model)

    async def upstream_finish_form(self, job: UpstreamJob, result: Any, *, kudos: float) -> None:
        spec = AlchemySubmitSpec(id=job.job_id, result=result, state="ok")
        await self._upstream_settle(job, kudos, lambda user: self.submit_interrogation(user, spec))

    async def _upstream_settle(self, job: UpstreamJob, kudos: float, submit: Any, model: str = "") -> bool:
        """Submit the upstream's result as the relay's worker, under the model the upstream used. What the
        upstream charged is counted once: by whoever settles the job (another node polling the same job after
        a restart gets DuplicateGen). True when this settled it."""
        user, _ = await self.upstream_identity()
        if model:
            async with self.db.transaction() as conn:
                await queue_up.set_model(conn, job.job_id, job.worker_id, model[:200])
        try:
            await submit(user)
        except HordeError as exc:
            if exc.rc in ("AbortedGen", "DuplicateGen", "InvalidJobID", "WrongCredentials"):
                return False  # no longer ours: served locally, cancelled, or settled by another node
            await self.upstream_spent(job, kudos)
            await self.upstream_failed(job, f"unusable result: {exc.message}")
            return False
        await self._upstream_count(job.community, kudos=kudos, done=1)
        await self.upstream_health(ok=True)
        return True

    async def upstream_spent(self, job: UpstreamJob, kudos: float) -> None:
        """Kudos the upstream charged for a job that brought nothing back (recorded all the same)."""
        await self._upstream_count(job.community, kudos=kudos)

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
            anonymous = int(request.user_id) == 0
            _, community = upstream_account(int(request.user_id), anonymous, request.proxied_account or "")
            subject = self.subject(int(request.user_id), anonymous, request.proxied_account, request.ipaddr).subject
            jobs.append(UpstreamJob(r.id, r.request_id, r.kind, r.worker_id, community, {},
                                    float(r.deadline or self.clock.now()), upstream_id=r.upstream_id, form=r.form or "",
                                    subject=subject, proxied_for=await self.upstream_proxied_for(subject),
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
