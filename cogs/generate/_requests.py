"""Requests built from an earlier one (pure): run it again, one image of it exactly, or img2img from one of its
images with a new prompt and strength. The earlier request's outline comes from the core
(`request_outline` / `job_outline`), so this works for results made before a restart, and from the gallery."""

from __future__ import annotations

from typing import Any

DEFAULT_STRENGTH = 0.6


def again(outline: dict[str, Any], *, nsfw: bool, proxied_account: str, keep_seed: bool, n: int | None = None,
          seed: str | None = None, model: str | None = None, prompt: str | None = None,
          source_b64: str | None = None, strength: float | None = None) -> dict[str, Any]:
    """The outline's request once more. `source_b64` makes it img2img from that image (a vary, a remix, or the
    source an img2img request started from); without one, img2img settings are dropped."""
    params = {k: v for k, v in outline["params"].items() if keep_seed or k != "seed"}
    params["n"] = n or outline["n"]
    if seed:
        params["seed"] = seed
    request: dict[str, Any] = {
        "prompt": prompt if prompt is not None else outline["prompt"], "params": params,
        "models": [model] if model else list(outline["models"]), "nsfw": nsfw, "censor_nsfw": not nsfw,
        "shared": bool(outline.get("shared")) and source_b64 is None, "replacement_filter": False,
        "proxied_account": proxied_account}
    if source_b64 is not None:
        request.update(source_image=source_b64, source_processing="img2img")
        if strength is not None or "denoising_strength" not in params:
            params["denoising_strength"] = strength if strength is not None else DEFAULT_STRENGTH
    else:
        params.pop("denoising_strength", None)
    return request


def split_prompt(prompt: str) -> tuple[str, str]:
    """A horde prompt's positive and negative parts (`positive ### negative`)."""
    positive, _, negative = prompt.partition("###")
    return positive.strip(), negative.strip()


def with_negative(positive: str, negative: str) -> str:
    return f"{positive.strip()} ### {negative.strip()}" if negative.strip() else positive.strip()


def fit_size(width: int, height: int, longest: int) -> tuple[int, int]:
    """An image's shape at most `longest` pixels on its longer side, in multiples of 64 (what workers draw)."""
    scale = min(1.0, longest / max(width, height, 1))

    def round64(value: float) -> int:
        return max(64, int(value * scale / 64 + 0.5) * 64)

    return round64(width), round64(height)
