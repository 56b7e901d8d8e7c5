"""`allow_downgrade` on image requests: when the requester cannot hold the kudos a request costs, shrink it the
way AI Horde does instead of refusing it, then price it again.

AI Horde's rule (horde/classes/stable/waiting_prompt.py, `downgrade`): scale the area down to the resolution it
serves without upfront kudos (keeping the aspect ratio, each side snapped down to a multiple of 64, never below
512x512), and lower the steps to the models' limit (30 unless a model asks for fewer). Here every request is
paid up front, so "needs upfront kudos" means "the hold would fail": only then is the request downgraded, and
if even the downgraded request is too dear the usual 403 KudosUpfront follows. Anonymous requests hold nothing,
so they are never downgraded. Text (horde/classes/kobold/waiting_prompt.py) lowers `max_length` to the tokens it
serves without upfront kudos (256 to 512 by load; here 256). A downgraded request also accepts slow workers.
"""

from __future__ import annotations

import math

from horde_core.ledger import pricing
from horde_core.ledger.allowances import UNLIMITED
from horde_core.users import repo as users_repo
from horde_core.users import sharedkeys as keys_repo
from horde_core.users.repo import UserRow

from .base import ServiceBase
from .schemas import ImageRequestSpec, TextRequestSpec

DOWNGRADE_STEPS = 30  # AI Horde's default step limit for requests without upfront kudos
# The resolution AI Horde serves without upfront kudos: 1024 for the big families, at least 768 for SD 2.x,
# and (under load, its floor) 576 for the rest.
_RESOLUTION = {"sdxl": 1024, "cascade": 1024, "flux": 1024, "sd2": 768}
_FLOOR_RESOLUTION = 576
DOWNGRADE_TOKENS = 256


class DowngradeMixin(ServiceBase):
    def image_costs(self, spec: ImageRequestSpec, user: UserRow) -> tuple[int, int, int]:
        """(cost per job, tax per job, total held) of an image request: the one pricing request_images and the
        downgrade check both use. A request may be served by any of its models, so it is priced as the costliest."""
        p = spec.params
        edit = spec.source_image is not None
        shared = (spec.shared or user.anonymous) and not edit
        families = [self.reference.family(m) for m in spec.models]
        family = max((f for f in families if f), key=lambda f: pricing.FAMILY_FACTOR.get(f, 1.0), default=None)
        cost = pricing.image_job_cost(p.width, p.height, p.steps, img2img=edit, hires_fix=p.hires_fix,
                                      post_processors=len(p.post_processing), loras=len(p.loras), family=family)
        tax = self.config.core.shared_tax if shared else self.config.core.horde_tax
        return cost, tax, pricing.request_total(cost, tax, p.n)

    async def _affordable(self, user: UserRow, total: int) -> bool:
        """Whether the hold would pass: the owner's balance, and a shared key's own allowance when the request
        comes through one (a key short of kudos downgrades the request too, rather than refusing it)."""
        async with self.db.read() as conn:
            fresh = await users_repo.by_id(conn, user.id)
            key = await keys_repo.by_hash(conn, user.shared_key.key_hash) if user.shared_key else None
        balance = fresh.kudos if fresh is not None else user.kudos
        if key is not None and key.kudos != UNLIMITED and key.kudos < total:
            return False
        return balance - total >= self.config.core.kudos_floor

    async def downgrade_if_needed(self, user: UserRow, spec: ImageRequestSpec) -> ImageRequestSpec:
        """The request as it will be queued: downgraded when it asks for it and the full one is unaffordable."""
        if not spec.allow_downgrade or user.anonymous or await self._affordable(user, self.image_costs(spec, user)[2]):
            return spec
        width, height = self.downgraded_size(spec)
        steps = min(spec.params.steps, self.downgraded_steps(spec.models))
        params = spec.params.model_copy(update={"width": width, "height": height, "steps": steps})
        return spec.model_copy(update={"params": params, "slow_workers": True})

    async def downgrade_text_if_needed(self, user: UserRow, spec: TextRequestSpec) -> TextRequestSpec:
        """The same for text: fewer tokens to generate."""
        p = spec.params
        if not spec.allow_downgrade or user.anonymous or p.max_length <= DOWNGRADE_TOKENS:
            return spec
        total = pricing.request_total(pricing.text_job_cost(p.max_length, p.max_context_length),
                                      self.config.core.horde_tax, p.n)
        if await self._affordable(user, total):
            return spec
        params = p.model_copy(update={"max_length": DOWNGRADE_TOKENS})
        return spec.model_copy(update={"params": params, "slow_workers": True})

    def downgraded_size(self, spec: ImageRequestSpec) -> tuple[int, int]:
        families = {self.reference.family(m) for m in spec.models}
        limit = max([_RESOLUTION.get(f or "", _FLOOR_RESOLUTION) for f in families] or [_FLOOR_RESOLUTION])
        width, height = spec.params.width, spec.params.height
        if width * height <= limit * limit:
            return width, height
        scale = math.sqrt(limit * limit / (width * height))
        width, height = int(width * scale) // 64 * 64, int(height * scale) // 64 * 64
        while width * height > limit * limit:
            if width >= height:
                width -= 64
            else:
                height -= 64
        if width * height < 512 * 512:
            return 512, 512
        return width, height

    def downgraded_steps(self, models: list[str]) -> int:
        limits = [info.max_steps for info in (self.reference.get(m) for m in models) if info is not None]
        return max(1, min([DOWNGRADE_STEPS, *limits]))
