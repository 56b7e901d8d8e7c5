"""Text generation (KoboldAI-compatible): the same queue, ledger and lifecycle as images."""

from __future__ import annotations

import json
import secrets
import uuid

from horde_core.ledger import pricing
from horde_core.queue.matching import pack
from horde_core.queue.states import ACTIVE, WAITING
from horde_core.users.repo import UserRow

from .deliveries import DeliverySpec
from .dto import Accepted, PoppedJob
from .errors import BadRequest, TooMany
from .generation import GenerationMixin
from .schemas import TextPopSpec, TextRequestSpec, TextSubmitSpec
from .work import WorkMixin


class TextMixin(GenerationMixin, WorkMixin):
    async def request_text(self, user: UserRow, spec: TextRequestSpec, *, client_agent: str = "",
                           ipaddr: str = "", deliver: DeliverySpec | None = None) -> Accepted:
        spec = await self.apply_style(user, spec)  # service/styles.py: before pricing, so priced once
        core = self.config.core
        if len(spec.prompt) > core.max_text_prompt_length:
            raise BadRequest(f"Prompt is longer than {core.max_text_prompt_length} characters.",
                             rc="PromptTooLong")
        p = spec.params
        job_cost = pricing.text_job_cost(p.max_length, p.max_context_length)
        total = pricing.request_total(job_cost, core.horde_tax, p.n)
        if spec.dry_run:
            return Accepted(None, total)
        if await self.over_request_limit(f"async:{user.id}:{ipaddr if user.anonymous else ''}"):
            raise TooMany("Too many requests; slow down.", rc="RateLimited")
        now = self.clock.now()
        rid = str(uuid.uuid4())
        rank = pricing.queue_rank(now, user.kudos, anonymous=user.anonymous)
        params = p.model_dump(exclude_none=True, exclude={"n"})
        request = {
            "id": rid, "kind": "text", "user_id": user.id, "state": ACTIVE, "created_at": now,
            "expires_at": now + core.request_expiry, "rank": rank, "n": p.n, "job_cost": job_cost,
            "job_tax": core.horde_tax, "escrow": total, "prompt": spec.prompt, "params": json.dumps(params),
            "models": pack(spec.models), "workers": pack(spec.workers), "worker_blacklist": spec.worker_blacklist,
            "max_length": p.max_length, "max_context_length": p.max_context_length,
            "softprompt": (spec.softprompt or "")[:200], "nsfw": spec.nsfw, "trusted_workers": spec.trusted_workers,
            "slow_workers": spec.slow_workers, "client_agent": client_agent[:200],
            "proxied_account": (spec.proxied_account or "")[:200], "ipaddr": ipaddr[:64],
        }
        jobs = [{"id": str(uuid.uuid4()), "request_id": rid, "kind": "text", "user_id": user.id, "state": WAITING,
                 "rank": rank, "seed": str(secrets.randbelow(2**31)), "reward": job_cost, "units": p.max_length}
                for _ in range(p.n)]
        await self._enqueue(user, request, jobs, total, deliver)
        return Accepted(rid, total)

    async def pop_text(self, user: UserRow, spec: TextPopSpec, *, ipaddr: str = "") -> PoppedJob:
        announced = {
            "models": sorted(set(spec.models)), "bridge_agent": spec.bridge_agent, "threads": spec.threads,
            "nsfw": spec.nsfw, "max_length": spec.max_length, "max_context_length": spec.max_context_length,
            "softprompts": sorted(set(spec.softprompts or ())), "ipaddr": ipaddr[:64],
        }
        ttl = self.config.core.text_job_ttl
        worker, request, claimed, model, _ = await self._pop(
            user, "text", spec.name, announced, spec.priority_usernames, spec.amount, ttl,
            blacklist=tuple(w for w in spec.blacklist if w), softprompts=tuple(spec.softprompts or ()))
        if not claimed:
            skipped = {} if worker.row.maintenance else await self._skipped(worker)
            return PoppedJob([], {}, None, skipped)
        payload = {**json.loads(request.params), "prompt": request.prompt, "n": len(claimed),
                   "max_length": int(request.max_length), "max_context_length": int(request.max_context_length)}
        return PoppedJob([j.id for j in claimed], payload, model, {}, ttl,
                         softprompt=request.softprompt or None)

    async def submit_text(self, user: UserRow, spec: TextSubmitSpec) -> int:
        if spec.state == "faulted":
            return await self._fault(user, spec.id, "text")
        csam = spec.state == "csam"
        censored = csam or spec.state == "censored"
        meta = [m.model_dump(exclude_none=True) for m in spec.gen_metadata or []]
        values = {"result": spec.generation, "censored": censored,
                  "gen_state": "csam" if csam else ("censored" if censored else "ok"),
                  "gen_metadata": json.dumps(meta) if meta else ""}
        if spec.seed is not None and str(spec.seed).lstrip("-").isdigit():
            values["seed"] = str(spec.seed)[:32]
        return await self._settle_submit(user, spec.id, "text", values, censored=censored, csam=csam)
