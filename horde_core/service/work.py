"""Worker side: pop (claim) jobs, upload results, submit them, and get paid."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from typing import Any

from horde_core.db import xact_lock
from horde_core.ledger import settlement
from horde_core.queue import claim as claims
from horde_core.queue import lifecycle
from horde_core.queue import webhooks as webhook_queue
from horde_core.queue.claim import upload_key_of
from horde_core.queue.matching import WorkerProfile
from horde_core.queue.states import DONE, HELD, PROCESSING, REQ_FAULTED, WAITING
from horde_core.storage.images import NotAnImage, b64decode
from horde_core.users import repo as users_repo
from horde_core.users.repo import UserRow
from horde_core.workers import repo as workers_repo

from .base import CachedWorker
from .dto import PoppedJob
from .errors import BadRequest, Conflict, Forbidden, NotFound
from .scanning import ScanMixin
from .schemas import ImagePopSpec, SubmitSpec

log = logging.getLogger(__name__)
_UPLOAD_KEY = re.compile(r"^img/([0-9a-f-]{36})\.[0-9a-f]{32}\.webp$")


def image_key(job_id: str) -> str:
    """Where a job's result is published (written once, by the submit that finished the job)."""
    return f"img/{job_id}.webp"


def new_upload_keys(job_ids: list[str], claim: str | None = None) -> dict[str, str]:
    """A fresh upload key per job for one claim: only this claim's URL addresses it (queue/claim.py writes the
    same keys on the jobs as it claims them)."""
    claim = claim or uuid.uuid4().hex
    return {jid: upload_key_of(jid, claim) for jid in job_ids}


def job_of_upload(key: str) -> str | None:
    found = _UPLOAD_KEY.match(key)
    return found.group(1) if found else None


class WorkMixin(ScanMixin):
    # --- registry -------------------------------------------------------------------------

    async def _worker_for_pop(self, user: UserRow, kind: str, name: str, announced: dict[str, Any],
                              priority_ids: tuple[int, ...], blacklist: tuple[str, ...],
                              softprompts: tuple[str, ...] = ()) -> CachedWorker:
        """Find or register the worker, and write its check-in only when it changed or is due."""
        now = self.clock.now()
        cached = self.workers.get(name)
        if cached is None or cached.row.owner_id != user.id:
            async with self.db.transaction() as conn:
                row = await workers_repo.by_name(conn, name)
                if row is None:
                    await self._check_worker_count(conn, user)
                    row = await workers_repo.create(conn, now, user.id, name, kind, announced)
                    if row is None:  # a concurrent first pop of the same name won the insert
                        row = await workers_repo.by_name(conn, name)
                assert row is not None
            if row.owner_id != user.id:
                raise Forbidden(f"Worker '{name}' belongs to another user; pick another name.",
                                rc="WrongCredentials")
            cached = CachedWorker(row=row, profile=_profile(row, user, priority_ids, blacklist, softprompts),
                                  profile_key=_key(announced), written_at=now)
            self.workers.put(name, cached)
        if cached.row.kind != kind:  # checked on every pop: a cached text worker must not pop image jobs
            raise BadRequest(f"Worker '{name}' is a {cached.row.kind} worker; use another name for {kind} work.",
                             rc="WorkerKindMismatch")
        key = _key(announced)
        if key != cached.profile_key or now - cached.written_at >= self.config.core.checkin_write_interval:
            async with self.db.transaction() as conn:
                await workers_repo.check_in(conn, cached.row.id, now, announced)
                fresh = await workers_repo.by_id(conn, cached.row.id)
            if fresh is not None:
                cached.row = fresh
            cached.profile_key, cached.written_at = key, now
        cached.profile = _profile(cached.row, user, priority_ids, blacklist, softprompts)
        return cached

    async def _check_worker_count(self, conn: Any, user: UserRow) -> None:
        """A user registers at most `core.max_workers_per_user` names (serialised, so parallel first pops of
        new names cannot all pass the count)."""
        limit = self.config.core.max_workers_per_user
        await xact_lock(conn, self.db.dialect, f"workers:{user.id}")
        if await workers_repo.count_of_owner(conn, user.id) >= limit:
            raise Forbidden(f"You have registered {limit} workers, the most one user may; reuse one of their "
                            "names.", rc="TooManyWorkers")

    async def _user_ids(self, names: list[str]) -> tuple[int, ...]:
        """Resolve `priority_usernames` (name#id) to user ids, remembered for a minute."""
        ids: list[int] = []
        for name in names:
            known, user_id = self.workers.user_id(name)
            if not known:
                async with self.db.read() as conn:
                    found = await users_repo.by_name(conn, name)
                user_id = found.id if found else None
                self.workers.remember_user_id(name, user_id)
            if user_id is not None:
                ids.append(user_id)
        return tuple(ids)

    # --- pop ------------------------------------------------------------------------------

    async def _pop(self, user: UserRow, kind: str, name: str, announced: dict[str, Any],
                   priority_usernames: list[str], amount: int, ttl: int, *, blacklist: tuple[str, ...] = (),
                   softprompts: tuple[str, ...] = ()) -> tuple[CachedWorker, Any, list[Any], str, dict[str, str]]:
        """Check the worker in and claim its best jobs: (worker, request row, claimed jobs, model, the
        claim's upload keys by job id for image work)."""
        if user.anonymous:
            raise Forbidden("Anonymous users cannot run workers; use a registered API key.",
                            rc="AnonForbidden")
        prio = (user.id, *await self._user_ids(priority_usernames))
        worker = await self._worker_for_pop(user, kind, name, announced, prio, blacklist, softprompts)
        if (worker.row.maintenance or worker.row.flagged or worker.row.paused or user.flagged
                or not await self.maybe_waiting(kind)):  # a flagged owner's workers get no jobs (AI Horde)
            return worker, None, [], "", {}
        now = self.clock.now()
        claim = uuid.uuid4().hex if kind == "image" else None  # names this claim's upload keys
        async with self.db.autocommit() as conn:  # PostgreSQL: one statement; SQLite: one transaction
            claimed, request, model = await claims.claim_jobs(conn, self.db.dialect, worker.profile, amount, now, ttl,
                                                              claim)
        if not claimed:
            return worker, None, [], "", {}
        if len(claimed) > 1 and request.disable_batching:  # one job per pop: give the others back at once
            async with self.db.transaction() as conn:
                await lifecycle.unclaim(conn, [c.id for c in claimed[1:]], worker.row.id)
            claimed = claimed[:1]
        keys = new_upload_keys([c.id for c in claimed], claim) if claim else {}
        return worker, request, claimed, model, keys

    async def pop_image(self, user: UserRow, spec: ImagePopSpec, *, ipaddr: str = "") -> PoppedJob:
        announced = {
            "models": sorted(set(spec.models)), "bridge_agent": spec.bridge_agent, "threads": spec.threads,
            "nsfw": spec.nsfw, "max_pixels": spec.max_pixels, "img2img": spec.allow_img2img,
            "painting": spec.allow_painting, "post_processing": spec.allow_post_processing,
            "lora": spec.allow_lora, "ipaddr": ipaddr[:64],
        }
        ttl = self.config.core.image_job_ttl
        worker, request, claimed, model, keys = await self._pop(
            user, "image", spec.name, announced, spec.priority_usernames, spec.amount, ttl,
            blacklist=tuple(w for w in spec.blacklist if w))
        if not claimed:
            idle = worker.row.maintenance or worker.row.flagged or worker.row.paused
            skipped = {} if idle else await self._skipped(worker)
            return PoppedJob([], {}, None, skipped)
        return await self._image_payload(request, claimed, model, ttl, keys)

    async def _skipped(self, worker: CachedWorker) -> dict[str, int]:
        now = time.monotonic()
        if worker.skipped_version == self.hints.version and now - worker.skipped_at < 2.0:
            return worker.skipped
        async with self.db.read() as conn:
            worker.skipped = await claims.skipped(conn, worker.profile)
        worker.skipped_version, worker.skipped_at = self.hints.version, now
        return worker.skipped

    async def _image_payload(self, request: Any, jobs: list[Any], model: str, ttl: int,
                             keys: dict[str, str]) -> PoppedJob:
        params = json.loads(request.params)
        payload: dict[str, Any] = {
            "prompt": request.prompt, "width": params["width"], "height": params["height"],
            "ddim_steps": params["steps"], "n_iter": len(jobs), "seed": jobs[0].seed,
            "sampler_name": params["sampler_name"], "cfg_scale": params["cfg_scale"],
            "karras": params["karras"], "tiling": params["tiling"], "hires_fix": params["hires_fix"],
            "clip_skip": params["clip_skip"], "post_processing": params.get("post_processing", []),
            "use_nsfw_censor": bool(request.censor_nsfw),
        }
        for opt in ("seed_variation", "hires_fix_denoising_strength", "facefixer_strength", "control_type",
                    "image_is_control", "return_control_map", "transparent"):
            if opt in params:
                payload[opt] = params[opt]
        if params.get("loras"):
            payload["loras"] = params["loras"]
        if params.get("tis"):
            payload["tis"] = params["tis"]
        source = mask = processing = None
        if request.source_image:
            payload["denoising_strength"] = params.get("denoising_strength", 0.75)
            source = await self._image_for_worker(request.source_image)
            processing = request.source_processing
            if request.source_mask:
                mask = await self._image_for_worker(request.source_mask)
        ids = [j.id for j in jobs]
        return PoppedJob(ids, payload, model, {}, ttl, [self.upload_url(keys[i]) for i in ids], source, mask,
                         processing)

    async def _image_for_worker(self, key: str) -> str:
        """Old workers want base64 unless the URL is https; give them what they can use."""
        url = self.download_url(key)
        if url.startswith("https://"):
            return url
        return base64.b64encode(await self.store.get(key) or b"").decode()

    # --- uploads and results ------------------------------------------------------------------

    async def upload_allowed(self, key: str) -> str:
        """The job whose current claim owns upload `key`; JobNotHeld (409) once that claim is over (timed out
        and given to another worker, submitted, cancelled). Cheap: checked before the body is read."""
        job_id = job_of_upload(key)
        job = None
        if job_id is not None:
            async with self.db.read() as conn:
                job = await lifecycle.job_row(conn, job_id)
        if job is None or job.state != PROCESSING or job.upload_key != key:
            raise Conflict("This upload URL belongs to a claim that no longer holds its job (it was submitted, "
                           "timed out or cancelled); nothing was stored.", rc="JobNotHeld")
        return job.id

    async def upload(self, key: str, data: bytes) -> None:
        """Store a worker's result as sent (any bytes, within the size limit), under its claim's own key.
        Nothing reads that key until the claim's submit checks it and publishes a re-encoded copy, so even
        a PUT that races the submit cannot change a published image."""
        if len(data) > self.config.api.max_upload_bytes:
            raise BadRequest("Upload too large.", rc="UploadTooLarge", status=413)
        await self.upload_allowed(key)
        await self.store.put(key, data)

    async def _uploaded_result(self, job_id: str) -> tuple[bytes | None, str]:
        """What the job's current claim uploaded, checked and re-encoded off the loop: (WebP or None when
        nothing was uploaded, the claim's upload key). NotAnImage when the bytes are not an image."""
        async with self.db.read() as conn:
            job = await lifecycle.job_row(conn, job_id)
        key = job.upload_key if job is not None else ""
        size = await self.store.size(key) if key else None
        if size is not None and size > self.config.api.max_upload_bytes:  # a presigned PUT has no size limit
            raise NotAnImage(f"the upload has {size} bytes; the limit is {self.config.api.max_upload_bytes}")
        # With S3 this is the one time a node reads a worker's upload: to check it before publishing a copy.
        raw = await self.store.get(key) if size is not None else None
        if raw is None:
            return None, key
        return await self.images.checked_result(raw, self.config.core.max_result_pixels), key

    async def _published(self, upload_key: str) -> None:
        """The claim's upload was published under the job's own key; its raw bytes are not needed."""
        if upload_key:
            await self.store.delete(upload_key)

    # --- submit ---------------------------------------------------------------------------

    async def submit_image(self, user: UserRow, spec: SubmitSpec) -> int:
        """Record a finished (or failed) job and settle its kudos; returns the worker's reward. The result is
        decoded with a pixel limit and re-encoded to WebP first: base64 garbage answers 400, an uploaded
        file that is not an image is a failed generation (the worker is not paid; the job is retried or
        faulted and refunded like any other failure)."""
        job_id = spec.id
        if spec.state == "faulted":
            return await self._fault(user, job_id, "image")
        claim_key: str | None = None
        await self._check_holder(user, job_id)  # cheap, before any decoding
        if spec.generation == "R2" or not spec.generation:
            try:
                webp, claim_key = await self._uploaded_result(job_id)
            except NotAnImage as exc:
                if spec.state != "ok":  # a censored result needs no image
                    webp, claim_key = None, None
                else:
                    log.info("job %s: the uploaded result is not an image (%s); counted as a failure", job_id, exc)
                    return await self._fault(user, job_id, "image")
            if webp is None and spec.state == "ok":
                raise BadRequest("No image was uploaded for this job; PUT it to r2_upload first.",
                                 rc="MissingUpload")
        else:
            try:
                raw = b64decode(spec.generation, self.config.api.max_upload_bytes)
                webp = await self.images.checked_result(raw, self.config.core.max_result_pixels)
            except NotAnImage as exc:
                raise BadRequest(f"generation: {exc}", rc="InvalidGeneration",
                                 errors={"generation": str(exc)}) from exc
        meta = [m.model_dump(exclude_none=True) for m in spec.gen_metadata or []]
        csam = spec.state == "csam" or any(m["type"] == "censorship" and m["value"] == "csam" for m in meta)
        censored = csam or spec.censored or spec.state == "censored" or any(
            m["type"] == "censorship" for m in meta)
        values = {"censored": censored, "gen_state": "csam" if csam else ("censored" if censored else "ok"),
                  "gen_metadata": json.dumps(meta) if meta else "", "image_key": image_key(job_id) if webp else "",
                  "upload_key": ""}
        if spec.seed is not None:
            values["seed"] = spec.seed[:32]
        reward = await self._settle_submit(user, spec.id, "image", values, censored=censored, csam=csam, raw=webp,
                                           upload_key=claim_key)
        await self._published(claim_key or "")
        return reward

    async def _settle_submit(self, user: UserRow, job_id: str, kind: str, values: dict[str, Any], *,
                             censored: bool = False, csam: bool = False, raw: bytes | None = None,
                             upload_key: str | None = None) -> int:
        """Finish a job held by one of the user's workers (by the claim that uploaded to `upload_key`, when
        given) and settle its kudos, in one transaction; `raw` is published as the job's image."""
        now = self.clock.now()
        hold = self.needs_scan(kind, values, censored)
        async with self.db.transaction() as conn:
            done = await lifecycle.finish_job(conn, job_id, user.id, now, {**values, "state": HELD} if hold else values,
                                              upload_key=upload_key)
            if done is None:
                await self._explain_submit_failure(conn, job_id, user)
            if raw is not None:  # only the job's holder may write its result
                await self.store.put(values["image_key"], raw)
            if hold:  # settled when the scan releases it
                await self.hold_for_scan(conn, now, job_id, values["image_key"])
                return int(done.reward)
            reward, units = int(done.reward), int(done.units)
            if censored:
                await settlement.refund_jobs(conn, now, done.request_id, 1, int(done.reward), "censored")
                if csam:
                    reward = 0
                    await lifecycle.set_reward(conn, job_id, 0)
                elif not self.is_upstream_user(user.id):  # the upstream relay is not paid for a censored result
                    await settlement.reward_from_mint(conn, now, user.id, reward, "generation", job_id)
            await workers_repo.record_job(conn, done.worker_id, done.model or "", reward, units,
                                          now - float(done.popped_at or now), now)
            hooked = bool(done.webhook) and await webhook_queue.enqueue(
                conn, done.request_id, job_id, 0 if censored else int(done.reward), now,
                self.config.webhooks.max_pending)
            if not censored:  # last: it locks the owner's balance row, which all their workers' submits share
                await settlement.pay_job(conn, now, done.request_id, job_id, user.id, int(done.reward))
        if hooked:
            self.wake_webhooks()
        if csam:
            await self._strike_for_csam(done.request_id)
        self.events.publish("job_finished", {"request_id": done.request_id, "job_id": job_id, "kind": kind,
                                             "censored": censored, "worker_owner": user.id})
        return reward

    async def _check_holder(self, user: UserRow, job_id: str) -> None:
        """Say why a submit cannot finish this job (done, aborted, another's) before complaining about it."""
        async with self.db.read() as conn:
            job = await lifecycle.job_row(conn, job_id)
            worker = await workers_repo.by_id(conn, job.worker_id) if job is not None and job.worker_id else None
            if job is None or job.state != PROCESSING or worker is None or worker.owner_id != user.id:
                await self._explain_submit_failure(conn, job_id, user)

    async def _explain_submit_failure(self, conn: Any, job_id: str, user: UserRow) -> None:
        job = await lifecycle.job_row(conn, job_id)
        if job is None:
            raise NotFound(f"Job {job_id} not found.", rc="InvalidJobID")
        if job.state == DONE:
            raise BadRequest("This job was already submitted.", rc="DuplicateGen")
        if job.worker_id is not None and job.state != WAITING:
            worker = await workers_repo.by_id(conn, job.worker_id)
            if worker is not None and worker.owner_id != user.id:
                raise Forbidden("This job belongs to another worker.", rc="WrongCredentials")
        raise BadRequest("This job was aborted (timed out or cancelled) and is no longer yours.",
                         rc="AbortedGen")

    async def _fault(self, user: UserRow, job_id: str, kind: str) -> int:
        """A worker could not do the job: requeue it, or fault the request when it keeps failing."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            requeued = await lifecycle.requeue(conn, [job_id], self.config.core.max_job_faults, owner_id=user.id,
                                               max_form_attempts=self.config.core.max_form_attempts, now=now)
            if not requeued:
                await self._explain_submit_failure(conn, job_id, user)
            await self._settle_faults(conn, requeued, now)
        self.tally.count("faulted", kind)
        self.note_waiting(kind)
        return 0

    async def _settle_faults(self, conn: Any, requeued: dict[str, lifecycle.Requeued], now: float) -> None:
        """Refund what failed for good: forms out of attempts, whole requests that failed too often, and retries
        of requests that ended (cancelled, expired) while the failed job was out."""
        for rid, outcome in requeued.items():
            if outcome.faulted_jobs:
                await settlement.refund_jobs(conn, now, rid, outcome.faulted_jobs, outcome.faulted_costs, "faulted")
            if outcome.failed and await lifecycle.set_request_state(conn, rid, REQ_FAULTED, now):
                count, costs = await lifecycle.cancel_waiting(conn, rid, now)
                await settlement.refund_jobs(conn, now, rid, count, costs, "faulted")
            elif outcome.retried and await lifecycle.request_over(conn, rid):
                # Cancelled or expired while the job was out: its retry is not served but refunded.
                count, costs = await lifecycle.cancel_waiting(conn, rid, now)
                await settlement.refund_jobs(conn, now, rid, count, costs, "cancelled")


def _key(announced: dict[str, Any]) -> tuple:  # type: ignore[type-arg]
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in announced.items()))


def _profile(row: workers_repo.WorkerRow, user: UserRow, priority: tuple[int, ...],
             blacklist: tuple[str, ...], softprompts: tuple[str, ...] = ()) -> WorkerProfile:
    return WorkerProfile(
        id=row.id, owner_id=row.owner_id, kind=row.kind, models=frozenset(row.models), trusted=user.trusted,
        nsfw=row.nsfw, max_pixels=row.max_pixels, blacklist=blacklist, img2img=row.img2img,
        painting=row.painting, post_processing=row.post_processing, lora=row.lora,
        max_length=row.max_length, max_context_length=row.max_context_length, priority_user_ids=priority,
        softprompts=softprompts)


__all__ = ["WAITING", "WorkMixin", "image_key"]
