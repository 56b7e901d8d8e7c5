"""Worker side: pop (claim) jobs, upload results, submit them, and get paid."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from horde_core.ledger import settlement
from horde_core.queue import claim as claims
from horde_core.queue import lifecycle
from horde_core.queue.matching import WorkerProfile
from horde_core.queue.states import DONE, HELD, REQ_FAULTED, WAITING
from horde_core.storage.images import NotAnImage, b64decode
from horde_core.users import repo as users_repo
from horde_core.users.repo import UserRow
from horde_core.workers import repo as workers_repo

from .base import CachedWorker
from .dto import PoppedJob
from .errors import BadRequest, Forbidden, NotFound
from .scanning import ScanMixin
from .schemas import ImagePopSpec, SubmitSpec


def image_key(job_id: str) -> str:
    return f"img/{job_id}.webp"


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
                    row = await workers_repo.create(conn, now, user.id, name, kind, announced)
                    if row is None:  # a concurrent first pop of the same name won the insert
                        row = await workers_repo.by_name(conn, name)
                assert row is not None
            if row.owner_id != user.id:
                raise Forbidden(f"Worker '{name}' belongs to another user; pick another name.",
                                rc="WrongCredentials")
            if row.kind != kind:
                raise BadRequest(f"Worker '{name}' is a {row.kind} worker; use another name for "
                                 f"{kind} work.", rc="WorkerKindMismatch")
            cached = CachedWorker(row=row, profile=_profile(row, user, priority_ids, blacklist, softprompts),
                                  profile_key=_key(announced), written_at=now)
            self.workers.put(name, cached)
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
                   softprompts: tuple[str, ...] = ()) -> tuple[CachedWorker, Any, list[Any], str]:
        """Check the worker in and claim its best jobs: (worker, request row, claimed jobs, model)."""
        if user.anonymous:
            raise Forbidden("Anonymous users cannot run workers; use a registered API key.",
                            rc="AnonForbidden")
        prio = (user.id, *await self._user_ids(priority_usernames))
        worker = await self._worker_for_pop(user, kind, name, announced, prio, blacklist, softprompts)
        if worker.row.maintenance or worker.row.flagged or not await self.maybe_waiting(kind):
            return worker, None, [], ""
        now = self.clock.now()
        async with self.db.autocommit() as conn:  # PostgreSQL: one statement; SQLite: one transaction
            claimed, request, model = await claims.claim_jobs(conn, self.db.dialect, worker.profile, amount, now, ttl)
        if not claimed:
            return worker, None, [], ""
        return worker, request, claimed, model

    async def pop_image(self, user: UserRow, spec: ImagePopSpec, *, ipaddr: str = "") -> PoppedJob:
        announced = {
            "models": sorted(set(spec.models)), "bridge_agent": spec.bridge_agent, "threads": spec.threads,
            "nsfw": spec.nsfw, "max_pixels": spec.max_pixels, "img2img": spec.allow_img2img,
            "painting": spec.allow_painting, "post_processing": spec.allow_post_processing,
            "lora": spec.allow_lora, "ipaddr": ipaddr[:64],
        }
        ttl = self.config.core.image_job_ttl
        worker, request, claimed, model = await self._pop(
            user, "image", spec.name, announced, spec.priority_usernames, spec.amount, ttl,
            blacklist=tuple(w for w in spec.blacklist if w))
        if not claimed:
            skipped = {} if worker.row.maintenance or worker.row.flagged else await self._skipped(worker)
            return PoppedJob([], {}, None, skipped)
        return await self._image_payload(request, claimed, model, ttl)

    async def _skipped(self, worker: CachedWorker) -> dict[str, int]:
        now = time.monotonic()
        if worker.skipped_version == self.hints.version and now - worker.skipped_at < 2.0:
            return worker.skipped
        async with self.db.read() as conn:
            worker.skipped = await claims.skipped(conn, worker.profile)
        worker.skipped_version, worker.skipped_at = self.hints.version, now
        return worker.skipped

    async def _image_payload(self, request: Any, jobs: list[Any], model: str, ttl: int) -> PoppedJob:
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
        return PoppedJob(ids, payload, model, {}, ttl, [self.upload_url(i) for i in ids], source, mask,
                         processing)

    async def _image_for_worker(self, key: str) -> str:
        """Old workers want base64 unless the URL is https; give them what they can use."""
        url = self.download_url(key)
        if url.startswith("https://"):
            return url
        return base64.b64encode(await self.store.get(key) or b"").decode()

    # --- uploads and downloads --------------------------------------------------------------

    async def upload(self, job_id: str, data: bytes) -> None:
        """Store a worker's result as sent (any bytes, within the size limit)."""
        if len(data) > self.config.api.max_upload_bytes:
            raise BadRequest("Upload too large.", rc="UploadTooLarge", status=413)
        await self.store.put(image_key(job_id), data)

    # --- submit ---------------------------------------------------------------------------

    async def submit_image(self, user: UserRow, spec: SubmitSpec) -> int:
        """Record a finished (or failed) job and settle its kudos; returns the worker's reward."""
        job_id = spec.id
        if spec.state == "faulted":
            return await self._fault(user, job_id, "image")
        key = image_key(job_id)
        raw: bytes | None = None
        if spec.generation == "R2" or not spec.generation:
            if not await self.store.exists(key) and spec.state == "ok":
                raise BadRequest("No image was uploaded for this job; PUT it to r2_upload first.",
                                 rc="MissingUpload")
        else:
            try:
                raw = b64decode(spec.generation, self.config.api.max_upload_bytes)
            except NotAnImage as exc:
                raise BadRequest(f"generation: {exc}", rc="InvalidGeneration") from exc
        meta = [m.model_dump(exclude_none=True) for m in spec.gen_metadata or []]
        csam = spec.state == "csam" or any(m["type"] == "censorship" and m["value"] == "csam" for m in meta)
        censored = csam or spec.censored or spec.state == "censored" or any(
            m["type"] == "censorship" for m in meta)
        values = {"censored": censored, "gen_state": "csam" if csam else ("censored" if censored else "ok"),
                  "gen_metadata": json.dumps(meta) if meta else "", "image_key": key}
        if spec.seed is not None:
            values["seed"] = spec.seed[:32]
        return await self._settle_submit(user, spec.id, "image", values, censored=censored, csam=csam, raw=raw)

    async def _settle_submit(self, user: UserRow, job_id: str, kind: str, values: dict[str, Any], *,
                             censored: bool = False, csam: bool = False, raw: bytes | None = None) -> int:
        """Finish a job held by one of the user's workers and settle its kudos, in one transaction."""
        now = self.clock.now()
        hold = self.needs_scan(kind, values, censored)
        async with self.db.transaction() as conn:
            done = await lifecycle.finish_job(conn, job_id, user.id, now, {**values, "state": HELD} if hold else values)
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
                                          now - float(done.popped_at or now))
            if not censored:  # last: it locks the owner's balance row, which all their workers' submits share
                await settlement.pay_job(conn, now, done.request_id, job_id, user.id, int(done.reward))
        if csam:
            await self._strike_for_csam(done.request_id)
        self.events.publish("job_finished", {"request_id": done.request_id, "job_id": job_id, "kind": kind,
                                             "censored": censored, "worker_owner": user.id})
        return reward

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
        """Refund what failed for good: forms out of attempts, and whole requests that failed too often."""
        for rid, outcome in requeued.items():
            if outcome.faulted_jobs:
                await settlement.refund_jobs(conn, now, rid, outcome.faulted_jobs, outcome.faulted_costs, "faulted")
            if outcome.failed and await lifecycle.set_request_state(conn, rid, REQ_FAULTED, now):
                count, costs = await lifecycle.cancel_waiting(conn, rid, now)
                await settlement.refund_jobs(conn, now, rid, count, costs, "faulted")


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
