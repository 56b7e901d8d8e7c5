"""Plain results of the core's use cases. The API formats them as JSON; the bot as embeds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Accepted:
    id: str | None
    kudos: int
    warnings: list[dict[str, str]] = field(default_factory=list)
    message: str = ""


@dataclass(frozen=True, slots=True)
class Progress:
    finished: int
    processing: int
    restarted: int
    waiting: int
    done: bool
    faulted: bool
    wait_time: int
    queue_position: int
    kudos: int
    is_possible: bool


@dataclass(frozen=True, slots=True)
class Generation:
    id: str
    worker_id: str
    worker_name: str
    model: str
    state: str  # ok | censored
    seed: str
    censored: bool
    img: str = ""  # a signed URL (r2) or base64 WebP
    text: str = ""
    gen_metadata: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RequestStatus:
    progress: Progress
    generations: list[Generation]
    shared: bool
    kind: str


@dataclass(frozen=True, slots=True)
class PoppedJob:
    """What a worker receives: one payload for one or more jobs of one request."""

    ids: list[str]
    payload: dict[str, Any]
    model: str | None
    skipped: dict[str, int]
    ttl: int | None = None
    r2_uploads: list[str] = field(default_factory=list)
    source_image: str | None = None
    source_mask: str | None = None
    source_processing: str | None = None
    softprompt: str | None = None


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    kudos: int
    concurrency: int
    trusted: bool
    created_at: float
    worker_ids: list[str]
    kudos_details: dict[str, int]
    records: dict[str, Any]
    active_generations: dict[str, list[str]]
    moderator: bool = False
    flagged: bool = False
    customizer: bool = False


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    id: str
    name: str
    kind: str
    online: bool
    requests_fulfilled: int
    kudos_generated: int
    kudos_uptime: int
    performance: str
    threads: int
    uptime: int
    maintenance_mode: bool
    info: str
    nsfw: bool
    owner: str
    trusted: bool
    uncompleted_jobs: int
    models: list[str]
    bridge_agent: str
    max_pixels: int
    units_generated: int
    img2img: bool
    painting: bool
    post_processing: bool
    lora: bool
    max_length: int
    max_context_length: int
    flagged: bool = False
    team_id: str | None = None
    team_name: str = ""


@dataclass(frozen=True, slots=True)
class ModelStatus:
    name: str
    kind: str
    count: int
    performance: float
    queued: int
    jobs: int
    eta: int


@dataclass(frozen=True, slots=True)
class FormStatus:
    form: str
    state: str  # waiting | processing | done | faulted | cancelled
    result: dict[str, Any] | None = None  # only once done


@dataclass(frozen=True, slots=True)
class AlchemyStatus:
    state: str  # waiting | processing | partial | done | faulted | cancelled
    forms: list[FormStatus]


@dataclass(frozen=True, slots=True)
class PoppedForm:
    id: str
    form: str
    source_image: str
    payload: dict[str, Any] | None = None
    r2_upload: str | None = None
