"""Which worker may take which request, as a pure function.

`skip_reason` is the specification; `claim.worker_filter` is the same rules written as SQL so
a pop is one indexed statement. The tests hold the two to agreement.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WorkerProfile:
    """What a worker announced on its pop, plus what the core knows of its owner."""

    id: str
    owner_id: int
    kind: str
    models: frozenset[str]
    trusted: bool = False
    nsfw: bool = False
    max_pixels: int = 512 * 512
    blacklist: tuple[str, ...] = ()
    img2img: bool = True
    painting: bool = True
    post_processing: bool = True
    lora: bool = False
    max_length: int = 0
    max_context_length: int = 0
    priority_user_ids: tuple[int, ...] = ()
    softprompts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RequestTraits:
    """The parts of a request that decide who may serve it."""

    kind: str
    models: tuple[str, ...] = ()
    workers: tuple[str, ...] = ()
    worker_blacklist: bool = False
    pixels: int = 0
    nsfw: bool = False
    trusted_workers: bool = False
    img2img: bool = False
    painting: bool = False
    post_processing: bool = False
    lora: bool = False
    prompt: str = ""
    max_length: int = 0
    max_context_length: int = 0
    softprompt: str = ""


def pack(values: tuple[str, ...] | list[str]) -> str:
    """Store a list as `|a|b|` so SQL can test membership with LIKE; empty means any."""
    return "|" + "|".join(values) + "|" if values else ""


def unpack(packed: str) -> tuple[str, ...]:
    return tuple(v for v in packed.split("|") if v)


def skip_reason(req: RequestTraits, worker: WorkerProfile) -> str | None:
    """None when the worker may serve the request, else the AI Horde `skipped` key for why not."""
    if req.kind != worker.kind:
        return "kind"
    if req.workers:
        listed = worker.id in req.workers
        if listed == req.worker_blacklist:
            return "worker_id"
    if req.models and not worker.models.intersection(req.models):
        return "models"
    if req.nsfw and not worker.nsfw:
        return "nsfw"
    if worker.blacklist:
        prompt = req.prompt.lower()
        if any(word.lower() in prompt for word in worker.blacklist):
            return "blacklist"
    if req.trusted_workers and not worker.trusted:
        return "untrusted"
    if req.kind == "image":
        if req.pixels > worker.max_pixels:
            return "max_pixels"
        if req.img2img and not worker.img2img:
            return "img2img"
        if req.painting and not worker.painting:
            return "painting"
        if req.post_processing and not worker.post_processing:
            return "post-processing"
        if req.lora and not worker.lora:
            return "lora"
    if req.kind == "text":
        if req.max_context_length > worker.max_context_length:
            return "max_context_length"
        if req.max_length > worker.max_length:
            return "max_length"
        if req.softprompt and req.softprompt not in worker.softprompts:
            return "matching_softprompt"
    return None


def pick_model(req: RequestTraits, worker: WorkerProfile) -> str:
    """The model a worker should use: the first requested one it serves, else its first."""
    for model in req.models:
        if model in worker.models:
            return model
    return sorted(worker.models)[0] if worker.models else ""
