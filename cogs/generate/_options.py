"""Turning /generate options into a request the core accepts, within the guild's limits (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.errors import UserFacingError
from bot.settings import GuildSettings

SIZES = {  # name: (width ratio, height ratio) applied to the guild's default size
    "square": (1.0, 1.0),
    "portrait": (2 / 3, 1.0),
    "landscape": (1.0, 2 / 3),
    "tall": (9 / 16, 1.0),
    "wide": (1.0, 9 / 16),
    "large": (2.0, 2.0),
}
SAMPLERS = ("k_euler_a", "k_euler", "k_dpmpp_2m", "k_dpmpp_sde", "k_dpmpp_2s_a", "k_heun", "k_lms", "DDIM")


def _round64(value: float) -> int:
    return max(64, round(value / 64) * 64)


def dimensions(size: str, default: int) -> tuple[int, int]:
    wr, hr = SIZES.get(size, SIZES["square"])
    return _round64(default * wr), _round64(default * hr)


@dataclass(frozen=True, slots=True)
class GenerateOptions:
    prompt: str
    negative: str = ""
    model: str = ""
    size: str = "square"
    steps: int | None = None
    images: int = 1
    seed: str = ""
    guidance: float | None = None
    sampler: str | None = None
    strength: float | None = None
    share: bool = False
    lora: str = ""  # a catalogue entry's name (see _catalogue.py)
    ti: str = ""
    style: str = ""  # a horde style's name (see _styles.py)


def build_request(opts: GenerateOptions, settings: GuildSettings, *, nsfw_allowed: bool, source_b64: str | None,
                  proxied_account: str) -> dict[str, Any]:
    """The core's image request as a dict; refuses anything past the guild's limits, naming the limit."""
    width, height = dimensions(opts.size, settings["default_size"])
    if max(width, height) > settings["max_size"]:
        raise UserFacingError("This server allows images up to {max_size} pixels wide or high; `{size}` would be "
                              "{width}x{height}. Pick a smaller size.", max_size=settings["max_size"], size=opts.size,
                              width=width, height=height)
    steps = opts.steps or settings["default_steps"]
    if steps > settings["max_steps"]:
        raise UserFacingError("This server allows at most {steps} steps.", steps=settings["max_steps"])
    if opts.images > settings["max_images"]:
        raise UserFacingError("This server allows at most {images} images per request.", images=settings["max_images"])
    prompt = opts.prompt.strip()
    if opts.negative.strip():
        prompt = f"{prompt} ### {opts.negative.strip()}"
    params: dict[str, Any] = {"width": width, "height": height, "steps": steps, "n": opts.images}
    if opts.seed:
        params["seed"] = opts.seed
    if opts.guidance is not None:
        params["cfg_scale"] = opts.guidance
    if opts.sampler:
        params["sampler_name"] = opts.sampler
    request: dict[str, Any] = {"prompt": prompt, "params": params, "nsfw": nsfw_allowed,
                               "censor_nsfw": not nsfw_allowed, "shared": opts.share and source_b64 is None,
                               "proxied_account": proxied_account, "replacement_filter": False}
    model = opts.model or settings["default_model"]
    if model:
        request["models"] = [model]
    if source_b64 is not None:
        request["source_image"] = source_b64
        request["source_processing"] = "img2img"
        params["denoising_strength"] = opts.strength if opts.strength is not None else 0.6
    return request
