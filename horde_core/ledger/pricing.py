"""What work costs and how it is ranked. Pure functions: no clock, no database.

Kudos are whole numbers everywhere, so the ledger adds up exactly.
"""

from __future__ import annotations

import math

BASE_PIXELS = 512 * 512
BASE_STEPS = 50
BASE_COST = 10.0  # a 512x512, 50-step image

HIRES_FIX_FACTOR = 1.5
IMG2IMG_FACTOR = 1.2
POST_PROCESSOR_FACTOR = 0.15  # per post-processor, on top of the base cost
LORA_SURCHARGE = 1  # per LoRA: the worker downloads and applies it

# Families whose models take more work per pixel-step than Stable Diffusion 1.5/2/XL.
FAMILY_FACTOR = {"sd3": 1.5, "cascade": 1.5, "flux": 2.0}

MAX_RANK_BONUS = 600.0  # seconds: how far ahead kudos can move a request, so nobody starves
ANONYMOUS_PENALTY = 60.0


def image_job_cost(
    width: int,
    height: int,
    steps: int,
    *,
    img2img: bool = False,
    hires_fix: bool = False,
    post_processors: int = 0,
    loras: int = 0,
    family: str | None = None,
) -> int:
    """Kudos one image job pays its worker; grows with pixels and steps, the model family's weight
    and the extras asked for."""
    cost = BASE_COST * (width * height / BASE_PIXELS) * (steps / BASE_STEPS)
    cost *= FAMILY_FACTOR.get(family or "", 1.0)
    if hires_fix:
        cost *= HIRES_FIX_FACTOR
    if img2img:
        cost *= IMG2IMG_FACTOR
    cost *= 1 + POST_PROCESSOR_FACTOR * post_processors
    cost += LORA_SURCHARGE * loras
    return max(1, math.ceil(cost))


def request_total(job_cost: int, job_tax: int, n: int) -> int:
    """What a request of n jobs holds from its requester up front."""
    return (job_cost + job_tax) * n


def megapixelsteps(width: int, height: int, steps: int) -> int:
    return max(1, round(width * height * steps / 1_000_000))


def queue_rank(created_at: float, requester_kudos: int, *, anonymous: bool) -> float:
    """Lower is served first. Kudos buy up to MAX_RANK_BONUS seconds of head start; waiting
    longer lowers nobody's rank, so every request is eventually first (aging)."""
    if anonymous:
        return created_at + ANONYMOUS_PENALTY
    bonus = 0.0
    if requester_kudos > 0:
        bonus = min(MAX_RANK_BONUS, 60.0 * math.log2(1 + requester_kudos / 100))
    return created_at - bonus


def uptime_reward(seconds: float, per_hour: int) -> int:
    """Whole kudos earned for `seconds` of being online."""
    return int(seconds * per_hour // 3600)


TEXT_TOKENS_PER_KUDO = 100
TEXT_CONTEXT_SCALE = 2048


def text_job_cost(max_length: int, max_context_length: int) -> int:
    """Kudos for one text job: linear in the tokens asked for, and faster than linear in the
    context the worker must hold (attention cost grows with it)."""
    cost = (max_length / TEXT_TOKENS_PER_KUDO) * (1 + (max_context_length / TEXT_CONTEXT_SCALE) ** 1.5)
    return max(1, math.ceil(cost))


TILE_PIXELS = 512 * 512
FORM_COSTS = {"caption": 1, "nsfw": 1, "interrogation": 2}
IMAGE_FORM_COST_PER_TILE = 2


def tiles(pixels: int) -> int:
    """How many 512x512 tiles an image covers (image forms are priced and limited by tiles)."""
    return max(1, math.ceil(pixels / TILE_PIXELS))


def form_cost(form: str, pixels: int, *, image_form: bool) -> int:
    """Kudos for one interrogation form: small for text answers, per tile for image forms."""
    if image_form:
        return IMAGE_FORM_COST_PER_TILE * tiles(pixels)
    return FORM_COSTS.get(form, 1)
