"""What the upstream horde is asked, built from a local request: pure functions, no I/O.

Each local job goes upstream as its own request of one image (or one text, or one form), with the job's
seed, so a failure costs one job's retry and results map back one to one. The body carries only what the
AI Horde v2 API defines; the requester is named by `proxied_account` ("<guild>:<member>"), never by key."""

from __future__ import annotations

import json
from typing import Any

from horde_core.queue.matching import unpack
from horde_core.safety.abuse import subject_of

# Parameters of our image requests that the upstream's `params` accepts as they are.
_IMAGE_PARAMS = ("sampler_name", "cfg_scale", "denoising_strength", "height", "width", "steps", "karras",
                 "tiling", "hires_fix", "hires_fix_denoising_strength", "clip_skip", "post_processing",
                 "facefixer_strength", "control_type", "image_is_control", "return_control_map", "loras", "tis",
                 "transparent", "seed_variation")


def upstream_account(user_id: int, anonymous: bool, proxied_account: str) -> tuple[str, str]:
    """(proxied_account for the upstream, local community): "<guild>:<member>" for a Discord member,
    "api:<user id>" for an API user (the community is then "", kept apart from every guild)."""
    who = subject_of(user_id, anonymous, proxied_account, "")
    if who.community:
        return proxied_account.split(":", 1)[1], who.community
    return f"api:{user_id}", ""


def image_body(request: Any, seed: str, proxied: str) -> dict[str, Any]:
    params = json.loads(request.params or "{}")
    sent: dict[str, Any] = {k: params[k] for k in _IMAGE_PARAMS if k in params and params[k] not in (None, [])}
    sent["n"] = 1
    if seed:
        sent["seed"] = seed
    body: dict[str, Any] = {
        "prompt": request.prompt, "params": sent, "nsfw": bool(request.nsfw),
        "censor_nsfw": bool(request.censor_nsfw), "trusted_workers": bool(request.trusted_workers),
        "r2": True, "shared": False, "replacement_filter": False, "proxied_account": proxied,
    }
    models = unpack(request.models or "")
    if models:
        body["models"] = list(models)
    return body


def text_body(request: Any, proxied: str) -> dict[str, Any]:
    params = json.loads(request.params or "{}")
    params["n"] = 1
    body: dict[str, Any] = {"prompt": request.prompt, "params": params,
                            "trusted_workers": bool(request.trusted_workers), "proxied_account": proxied}
    models = unpack(request.models or "")
    if models:
        body["models"] = list(models)
    return body


def interrogation_body(request: Any, form: str, source: str, proxied: str) -> dict[str, Any]:
    payload = json.loads(request.params or "{}").get(form)
    entry: dict[str, Any] = {"name": form}
    if payload:
        entry["payload"] = payload
    return {"forms": [entry], "source_image": source, "proxied_account": proxied}


__all__ = ["image_body", "interrogation_body", "text_body", "upstream_account"]
