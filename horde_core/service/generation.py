"""Client side of image generation: accept a request, report progress, hand over results, cancel."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from typing import Any

from horde_core.db import xact_lock
from horde_core.deliveries import repo as deliveries
from horde_core.ledger import pricing, settlement
from horde_core.queue import lifecycle
from horde_core.queue.accept import accept
from horde_core.queue.claim import traits_of
from horde_core.queue.matching import pack, skip_reason
from horde_core.queue.states import ACTIVE, GONE, HELD, PROCESSING, REQ_CANCELLED, REQ_FAULTED, WAITING
from horde_core.storage.images import NotAnImage, b64decode
from horde_core.users import repo as users_repo
from horde_core.users.repo import UserRow

from . import sharing_rules as shared_keys
from .deliveries import DeliverySpec
from .downgrade import DowngradeMixin
from .dto import Accepted, Generation, Progress, RequestStatus
from .errors import BadRequest, Forbidden, RequestNotFound, TooMany
from .fairness import FairnessMixin
from .schemas import ImageRequestSpec
from .screening import ScreeningMixin
from .webhook_rules import checked_webhook

DEFAULT_SECONDS_PER_JOB = 10.0


def job_seeds(seed: str | None, n: int, variation: int | None) -> list[str]:
    """Seeds as strings of digits; a word is turned into a stable number."""
    if seed is None:
        return [str(secrets.randbelow(2**32)) for _ in range(n)]
    digits = seed.isascii() and seed.isdigit()
    base = int(seed) if digits else int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16)
    step = variation or 1
    return [str((base + i * step) % 2**32) for i in range(n)]


def _concurrency_lock(user: UserRow, ipaddr: str) -> str:
    return f"concurrency:{user.id}:{ipaddr if user.anonymous else ''}"


def _no_kudos(total: int, floor: int) -> Forbidden:
    return Forbidden(f"This request needs {total} kudos and your balance would fall below {floor}. Earn kudos "
                     "by running a worker, or lower steps, size or images.", rc="KudosUpfront")


def parse_request_id(request_id: str) -> str:
    try:
        return str(uuid.UUID(request_id))
    except (ValueError, AttributeError):
        raise RequestNotFound(f"Request with ID '{request_id}' not found.") from None


class GenerationMixin(FairnessMixin, ScreeningMixin, DowngradeMixin):
    async def request_images(self, user: UserRow, spec: ImageRequestSpec, *, client_agent: str = "",
                             ipaddr: str = "", deliver: DeliverySpec | None = None) -> Accepted:
        """Price, hold the kudos and queue n jobs; or only price it for a dry run. `deliver` records where a
        client will post the result, in the same transaction (see service/deliveries.py)."""
        spec = await self.apply_style(user, spec)  # service/styles.py: before pricing, so priced once
        core = self.config.core
        prompt = spec.prompt
        if len(prompt) > core.max_prompt_length:
            raise BadRequest(f"Prompt is longer than {core.max_prompt_length} characters.",
                             rc="PromptTooLong")
        spec = await self.downgrade_if_needed(user, spec)  # allow_downgrade (service/downgrade.py)
        p = spec.params
        img2img = spec.source_image is not None and spec.source_processing == "img2img"
        painting = spec.source_image is not None and spec.source_processing != "img2img"
        shared = (spec.shared or user.anonymous) and spec.source_image is None
        job_cost, job_tax, total = self.image_costs(spec, user)  # service/downgrade.py
        warnings = self._model_warnings(spec.models)
        prompt = await self.screen_prompt(
            user.id, user.anonymous, prompt, replacement=spec.replacement_filter,
            proxied_account=spec.proxied_account, ipaddr=ipaddr, client_agent=client_agent, strike=not spec.dry_run)
        if spec.dry_run:
            return Accepted(None, total, warnings)
        if await self.over_request_limit(f"async:{user.id}:{ipaddr if user.anonymous else ''}"):
            raise TooMany("Too many requests; slow down.", rc="RateLimited")
        # The cheap checks (concurrency, kudos) before the costly work: decoding images in the pool.
        await self.precheck_limits(user, p.n, total, ipaddr)
        source = mask = b""
        if spec.source_image:
            source = await self._decode_client_image(spec.source_image, "source_image")
        if spec.source_mask:
            mask = await self._decode_client_image(spec.source_mask, "source_mask")

        now = self.clock.now()
        rid = str(uuid.uuid4())
        rank = pricing.queue_rank(now, user.kudos, anonymous=user.anonymous)
        params = p.model_dump(exclude_none=True, exclude={"n"})
        params["loras"] = [lo.model_dump(exclude_none=True) for lo in p.loras]
        params["tis"] = [ti.model_dump(exclude_none=True) for ti in p.tis]
        request = {
            "id": rid, "kind": "image", "user_id": user.id, "state": ACTIVE, "created_at": now,
            "expires_at": now + core.request_expiry, "rank": rank, "n": p.n, "job_cost": job_cost,
            "job_tax": job_tax, "escrow": total, "prompt": prompt, "params": json.dumps(params),
            "models": pack(spec.models), "workers": pack(spec.workers),
            "worker_blacklist": spec.worker_blacklist, "pixels": p.width * p.height, "steps": p.steps,
            "nsfw": spec.nsfw, "censor_nsfw": spec.censor_nsfw or not spec.nsfw,
            "trusted_workers": spec.trusted_workers, "slow_workers": spec.slow_workers,
            "img2img": img2img, "painting": painting, "post_processing": bool(p.post_processing),
            "lora": bool(p.loras), "shared": shared, "r2": spec.r2,
            "source_image": f"source/{rid}.webp" if source else "",
            "source_mask": f"mask/{rid}.webp" if mask else "",
            "source_processing": spec.source_processing, "client_agent": client_agent[:200],
            "proxied_account": (spec.proxied_account or "")[:200], "ipaddr": ipaddr[:64],
            "webhook": await checked_webhook(spec.webhook, self.config.webhooks),
            "disable_batching": spec.disable_batching and user.trusted,  # AI Horde: trusted users only
        }
        units = pricing.megapixelsteps(p.width, p.height, p.steps)
        jobs = [{"id": str(uuid.uuid4()), "request_id": rid, "kind": "image", "user_id": user.id,
                 "state": WAITING, "rank": rank, "seed": seed, "reward": job_cost, "units": units}
                for seed in job_seeds(p.seed, p.n, p.seed_variation)]
        if source:
            await self.store.put(request["source_image"], source)
        if mask:
            await self.store.put(request["source_mask"], mask)
        await self._enqueue(user, request, jobs, total, deliver)
        return Accepted(rid, total, warnings)

    async def _enqueue(self, user: UserRow, request: dict[str, Any], jobs: list[dict[str, Any]],
                       total: int, deliver: DeliverySpec | None = None) -> None:
        """Concurrency check, kudos hold, insert and the client's delivery note: one transaction, serialised
        per user (per IP when anonymous), so simultaneous requests cannot all pass the same count."""
        now = request["created_at"]
        ipaddr = request.get("ipaddr", "")
        await self.safety_gate(self.subject(user.id, user.anonymous, request.get("proxied_account"), ipaddr))
        floor = -(2**62) if user.anonymous else self.config.core.kudos_floor
        fast = (self.db.dialect == "postgresql" and not user.anonymous and deliver is None
                and not await self.fairness_applies(request))
        async with self.db.transaction() as conn:
            await xact_lock(conn, self.db.dialect, _concurrency_lock(user, ipaddr))
            await shared_keys.spend(conn, user, request, total)  # a shared key's caps and allowance (issue 16)
            if fast:
                # After the lock, one statement does the rest (queue/accept.py): the concurrency count, the
                # conditional debit with its ledger row, the request and its jobs. Anonymous requests (counted per
                # address), members under their community's fairness rules and requests whose Discord delivery
                # is recorded with them take the steps below.
                accepted, active = await accept(conn, request, jobs, total, floor, user.concurrency, now)
                if not accepted:
                    if active + len(jobs) > user.concurrency:
                        raise TooMany(f"You already have {active} jobs queued or in progress; the limit is "
                                      f"{user.concurrency}. Wait for them to finish.", rc="TooManyPrompts")
                    raise _no_kudos(total, floor)
            else:
                await self._check_concurrency(conn, user, len(jobs), ipaddr)
                await self.admit_fairly(conn, request, len(jobs))  # per member of a community
                await lifecycle.insert_request(conn, request, jobs)
                if not await settlement.hold(conn, now, user.id, request["id"], total, floor):
                    raise _no_kudos(total, floor)
                if deliver is not None:
                    await deliveries.add(conn, deliver.row(request, now))
        self.note_waiting(request["kind"])

    async def precheck_limits(self, user: UserRow, jobs: int, total: int, ipaddr: str) -> None:
        """What `_enqueue` will check, read without locks: refuses most over-limit requests before any
        image of theirs is decoded (the transaction checks again)."""
        async with self.db.read() as conn:
            await self._check_concurrency(conn, user, jobs, ipaddr)
            if not user.anonymous:
                fresh = await users_repo.by_id(conn, user.id)
                floor = self.config.core.kudos_floor
                if fresh is not None and fresh.kudos - total < floor:
                    raise _no_kudos(total, floor)

    async def _check_concurrency(self, conn: Any, user: UserRow, jobs: int, ipaddr: str) -> None:
        if user.anonymous:
            limit = self.config.core.anonymous_concurrency
            active = await lifecycle.active_jobs_of_ip(conn, user.id, ipaddr)
            who = "Anonymous requests from your address have"
        else:
            limit = user.concurrency
            active = await lifecycle.active_jobs_of_user(conn, user.id)
            who = "You already have"
        if active + jobs > limit:
            raise TooMany(f"{who} {active} jobs queued or in progress; the limit is {limit}. Wait for them to "
                          "finish" + (", or register an API key." if user.anonymous else "."), rc="TooManyPrompts")

    async def _decode_client_image(self, data: str, field: str) -> bytes:
        """A client's image as checked WebP, decoded in the image pool (never on the event loop)."""
        try:
            raw = b64decode(data, self.config.api.max_body_bytes)
            webp, _, _ = await self.images.to_webp(raw)
        except NotAnImage as exc:
            raise BadRequest(f"{field}: {exc}", rc="SourceImageInvalid", errors={field: str(exc)}) from exc
        return webp

    def _model_warnings(self, models: list[str]) -> list[dict[str, str]]:
        unknown = [m for m in models if not self.reference.is_known(m)]
        if unknown and not self.config.core.allow_custom_models:
            raise BadRequest(f"Unknown models: {', '.join(unknown)}", rc="UnknownModel")
        return []

    # --- progress -------------------------------------------------------------------------

    async def _live_request(self, conn: Any, request_id: str, kind: str) -> Any:
        rid = parse_request_id(request_id)
        row = await lifecycle.request_row(conn, rid)
        if row is None or row.state in GONE or row.kind != kind:
            raise RequestNotFound(f"Request with ID '{request_id}' not found. It may have expired; "
                                  "stop polling it.")
        return row

    async def _progress(self, conn: Any, row: Any) -> Progress:
        counts = await lifecycle.job_counts(conn, row.id)
        waiting = counts.get(WAITING, 0)
        processing = counts.get(PROCESSING, 0) + counts.get(HELD, 0)  # a held image is still on its way
        finished = counts.get("done", 0)
        position = 0
        if waiting:
            position = await lifecycle.queue_position(conn, row.kind, row.rank)
        possible = await self.is_possible(row)
        wait = 0
        if waiting or processing:
            threads = max(1, sum(w.threads for w in await self.online_workers(row.kind)))
            wait = max(1, int((position + waiting + processing) * DEFAULT_SECONDS_PER_JOB / threads))
        return Progress(
            finished=finished, processing=processing, restarted=int(row.restarted), waiting=waiting,
            done=waiting == 0 and processing == 0, faulted=row.state == REQ_FAULTED, wait_time=wait,
            queue_position=position, kudos=int(row.kudos_spent), is_possible=possible)

    async def check(self, request_id: str, kind: str = "image") -> Progress:
        async with self.db.read() as conn:
            row = await self._live_request(conn, request_id, kind)
            return await self._progress(conn, row)

    async def status(self, request_id: str, kind: str = "image") -> RequestStatus:
        async with self.db.read() as conn:
            row = await self._live_request(conn, request_id, kind)
            progress = await self._progress(conn, row)
            jobs = await lifecycle.finished_jobs(conn, row.id)
        return RequestStatus(progress, [await self._generation(row, j) for j in jobs], bool(row.shared),
                             row.kind)

    async def cancel(self, request_id: str, kind: str = "image") -> RequestStatus:
        """Stop waiting jobs and refund them; jobs in flight still settle when they come back."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            row = await self._live_request(conn, request_id, kind)
            await lifecycle.set_request_state(conn, row.id, REQ_CANCELLED, now)
            count, costs = await lifecycle.cancel_waiting(conn, row.id, now)
            await settlement.refund_jobs(conn, now, row.id, count, costs, "cancelled")
        return await self.status(request_id, kind)

    async def _generation(self, request: Any, job: Any) -> Generation:
        worker = await self.worker_brief(job.worker_id)
        img = ""
        if request.kind == "image" and job.image_key and not job.pruned:
            if request.r2:
                img = self.download_url(job.image_key)
            else:
                data = await self.store.get(job.image_key)
                img = base64.b64encode(data or b"").decode()
        meta = json.loads(job.gen_metadata) if job.gen_metadata else []
        if job.gen_state == "csam" and not any(m.get("value") == "csam" for m in meta):
            meta.append({"type": "censorship", "value": "csam"})  # say why, as a worker's own report would
        return Generation(
            id=job.id, worker_id=job.worker_id or "", worker_name=worker[1], model=job.model,
            state="censored" if job.censored else "ok", seed=job.seed or "0", censored=bool(job.censored),
            img=img, text=job.result if request.kind == "text" else "", gen_metadata=meta)

    # --- worker availability (cached) -------------------------------------------------------

    async def is_possible(self, row: Any) -> bool:
        traits = traits_of(row)
        return any(skip_reason(traits, w) is None for w in await self.online_profiles(row.kind))
