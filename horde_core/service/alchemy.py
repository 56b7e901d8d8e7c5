"""Interrogation ("alchemy"): captions, NSFW checks and image forms on one source image.

Each requested form is one job. Alchemists pop forms (several, across requests) and submit a
result per form; image forms upload their image like image workers do.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select

from horde_core.ledger import pricing
from horde_core.models import Request
from horde_core.queue import claim as claims
from horde_core.queue import lifecycle
from horde_core.queue.matching import pack
from horde_core.queue.states import ACTIVE, WAITING
from horde_core.reference.forms import IMAGE_FORMS, KNOWN_FORMS, is_image_form
from horde_core.storage.images import NotAnImage, b64decode
from horde_core.users.repo import UserRow

from .deliveries import DeliverySpec
from .dto import AlchemyStatus, FormStatus, PoppedForm
from .errors import BadRequest, Forbidden, TooMany
from .generation import GenerationMixin
from .schemas import AlchemyPopSpec, AlchemyRequestSpec, AlchemySubmitSpec
from .webhook_rules import checked_webhook
from .work import WorkMixin, image_key, new_upload_keys

Fetcher = Callable[[str, int, float, bool], Awaitable[bytes]]
_R = Request.__table__.c


def _form_value(form: str, result: Any) -> Any:
    """A submitted result as the value stored for its form (horde-sdk sends bare strings)."""
    if isinstance(result, dict):
        return result.get(form, result)
    if form == "nsfw" and isinstance(result, str):
        return result.strip().lower() in ("true", "1", "yes")
    return result


class AlchemyMixin(GenerationMixin, WorkMixin):
    fetch_url: Fetcher | None = None

    async def request_interrogation(self, user: UserRow, spec: AlchemyRequestSpec, *, client_agent: str = "",
                                    ipaddr: str = "", deliver: DeliverySpec | None = None) -> str:
        core = self.config.core
        names = [f.name for f in spec.forms]
        unknown = [n for n in names if n not in KNOWN_FORMS]
        if unknown:
            raise BadRequest(f"Unknown forms: {', '.join(unknown)}. Known: {', '.join(sorted(KNOWN_FORMS))}.",
                             rc="UnknownForm")
        if len(set(names)) != len(names):
            raise BadRequest("Each form may be requested once.", rc="DuplicateForm")
        if await self.over_request_limit(f"alchemy:{user.id}:{ipaddr if user.anonymous else ''}"):
            raise TooMany("Too many requests; slow down.", rc="RateLimited")
        # A proxying service (the bot) is one client agent for many members, each capped as a user.
        await self._flood_control(user, "" if spec.proxied_account else client_agent)
        await self.precheck_limits(user, len(spec.forms), 0, ipaddr)  # before the source is decoded
        source, width, height = await self._source_image(spec.source_image)
        now = self.clock.now()
        rid = str(uuid.uuid4())
        rank = pricing.queue_rank(now, user.kudos, anonymous=user.anonymous)
        jobs = []
        for f in spec.forms:
            cost = pricing.form_cost(f.name, width * height, image_form=is_image_form(f.name))
            jobs.append({"id": str(uuid.uuid4()), "request_id": rid, "kind": "interrogation", "user_id": user.id,
                         "state": WAITING, "rank": rank, "form": f.name, "reward": cost,
                         "units": pricing.tiles(width * height)})
        total = sum(j["reward"] for j in jobs)
        request = {
            "id": rid, "kind": "interrogation", "user_id": user.id, "state": ACTIVE, "created_at": now,
            "expires_at": now + core.request_expiry, "rank": rank, "n": len(jobs), "job_cost": 0, "job_tax": 0,
            "escrow": total, "prompt": "", "models": "", "workers": pack(spec.workers),
            "params": json.dumps({f.name: f.payload for f in spec.forms if f.payload}),
            "worker_blacklist": spec.worker_blacklist, "pixels": width * height,
            "trusted_workers": spec.trusted_workers, "slow_workers": spec.slow_workers,
            "source_image": f"source/{rid}.webp", "client_agent": client_agent[:200],
            "proxied_account": (spec.proxied_account or "")[:200], "ipaddr": ipaddr[:64],
            "webhook": await checked_webhook(spec.webhook, self.config.webhooks),
        }
        await self.store.put(request["source_image"], source)
        await self._enqueue(user, request, jobs, total, deliver)
        return rid

    async def _flood_control(self, user: UserRow, client_agent: str) -> None:
        """The seed horde learned this from a browser extension captioning every image it saw."""
        core = self.config.core
        active = (_R.kind == "interrogation", _R.state == ACTIVE)
        async with self.db.read() as conn:
            mine = await conn.scalar(select(func.count()).where(*active, _R.user_id == user.id))
            agent = 0
            if client_agent:
                agent = await conn.scalar(select(func.count()).where(*active, _R.client_agent == client_agent[:200]))
        if not user.anonymous and int(mine or 0) >= core.max_waiting_interrogations_per_user:
            raise TooMany(f"You have {mine} interrogations waiting; the limit is "
                          f"{core.max_waiting_interrogations_per_user}. Wait for them to finish.",
                          rc="TooManyInterrogations")
        if int(agent or 0) >= core.max_waiting_interrogations_per_agent:
            raise TooMany(f"Client '{client_agent}' has too many interrogations waiting; slow down.",
                          rc="TooManyInterrogations")

    async def _source_image(self, source: str) -> tuple[bytes, int, int]:
        """The source as checked WebP: base64, or an http(s) URL downloaded once under limits."""
        core = self.config.core
        try:
            if source.startswith(("http://", "https://")):
                if self.fetch_url is None:
                    raise BadRequest("This horde cannot download source images; send base64.",
                                     rc="SourceImageUnreachable")
                try:
                    raw = await self.fetch_url(source, core.source_download_max_bytes, core.source_download_timeout,
                                               core.allow_private_source_urls)
                except ValueError as exc:
                    raise BadRequest(f"source_image: {exc}", rc="SourceImageUnreachable") from exc
            else:
                raw = b64decode(source, core.source_download_max_bytes)
            return await self.images.to_webp(raw)
        except NotAnImage as exc:
            raise BadRequest(f"source_image: {exc}", rc="SourceImageInvalid",
                             errors={"source_image": str(exc)}) from exc

    async def pop_interrogation(self, user: UserRow, spec: AlchemyPopSpec, *,
                                ipaddr: str = "") -> tuple[list[PoppedForm], dict[str, int]]:
        forms = sorted({f for f in spec.forms if f in KNOWN_FORMS})
        announced = {"models": forms, "bridge_agent": spec.bridge_agent, "threads": spec.threads,
                     "max_pixels": spec.max_tiles * pricing.TILE_PIXELS, "ipaddr": ipaddr[:64]}
        if user.anonymous:
            raise Forbidden("Anonymous users cannot run workers; use a registered API key.", rc="AnonForbidden")
        prio = (user.id, *await self._user_ids(spec.priority_usernames))
        worker = await self._worker_for_pop(user, "interrogation", spec.name, announced, prio, ())
        if (worker.row.maintenance or worker.row.paused or user.flagged or not forms
                or not await self.maybe_waiting("interrogation")):
            return [], {}
        now = self.clock.now()
        ttl = self.config.core.interrogation_job_ttl
        async with self.db.transaction() as conn:
            claimed = await claims.claim_forms(conn, self.db.dialect, worker.profile, IMAGE_FORMS, spec.amount, now,
                                               ttl)
            requests = {rid: await lifecycle.request_row(conn, rid) for rid in {c.request_id for c in claimed}}
            keys = new_upload_keys([c.id for c in claimed if is_image_form(c.form)])
            await lifecycle.set_upload_keys(conn, keys)
        popped = []
        for job in claimed:
            request = requests[job.request_id]
            payload = json.loads(request.params or "{}").get(job.form)
            popped.append(PoppedForm(id=job.id, form=job.form, source_image=self.download_url(request.source_image),
                                     payload=payload or None,
                                     r2_upload=self.upload_url(keys[job.id]) if job.id in keys else None))
        return popped, ({} if popped else await self._skipped(worker))

    async def submit_interrogation(self, user: UserRow, spec: AlchemySubmitSpec) -> int:
        if spec.state == "faulted":
            return await self._fault(user, spec.id, "interrogation")
        async with self.db.read() as conn:
            job = await lifecycle.job_row(conn, spec.id)
        form = job.form if job is not None else ""
        webp: bytes | None = None
        claim_key: str | None = None
        if is_image_form(form):
            await self._check_holder(user, spec.id)  # cheap, before any decoding
            try:  # checked and re-encoded like an image generation's result
                webp, claim_key = await self._uploaded_result(spec.id)
            except NotAnImage:
                return await self._fault(user, spec.id, "interrogation")
            if webp is None:
                raise BadRequest("No image was uploaded for this form; PUT it to r2_upload first.",
                                 rc="MissingUpload")
            value: Any = "R2"
        else:
            if spec.result is None and spec.state == "ok":
                raise BadRequest("A result is required.", rc="MissingResult")
            value = _form_value(form, spec.result)
        censored = spec.state in ("censored", "csam")
        values = {"result": json.dumps({form: value}), "censored": censored, "gen_state": spec.state,
                  "image_key": image_key(spec.id) if webp else "", "upload_key": ""}
        reward = await self._settle_submit(user, spec.id, "interrogation", values, censored=censored,
                                           csam=spec.state == "csam", raw=webp, upload_key=claim_key)
        await self._published(claim_key or "")
        if job is not None and form == "nsfw":
            async with self.db.read() as conn:
                request = await lifecycle.request_row(conn, job.request_id)
            scan_job = json.loads(request.params or "{}").get("scan_job")
            if scan_job:  # this form was a held image's safety scan
                await self.release_scanned(scan_job, spec.result)
        return reward

    async def interrogation_status(self, request_id: str) -> AlchemyStatus:
        async with self.db.read() as conn:
            row = await self._live_request(conn, request_id, "interrogation")
            jobs = await lifecycle.jobs_of(conn, row.id)
        forms = []
        for job in jobs:
            result = None
            if job.state == "done":
                stored = json.loads(job.result or "{}")
                if is_image_form(job.form):
                    stored = {job.form: self.download_url(job.image_key)} if not job.pruned else {}
                result = stored
            forms.append(FormStatus(job.form, job.state, result))
        return AlchemyStatus(_overall(row.state, [f.state for f in forms]), forms)

    async def cancel_interrogation(self, request_id: str) -> AlchemyStatus:
        await self.cancel(request_id, "interrogation")
        return await self.interrogation_status(request_id)


def _overall(request_state: str, states: list[str]) -> str:
    """One word for the whole request, as AI Horde clients expect."""
    done = sum(s == "done" for s in states)
    if states and done == len(states):
        return "done"
    if states and all(s in ("faulted", "cancelled") for s in states):
        return "cancelled" if request_state == "cancelled" else "faulted"
    if all(s in ("done", "faulted", "cancelled") for s in states):
        return "partial" if done else "faulted"
    if done:
        return "partial"
    if any(s == "processing" for s in states):
        return "processing"
    return "waiting"
