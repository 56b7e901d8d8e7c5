"""Plain results of the web pages' use cases (issue 15); the web adapter renders them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .dto import ModelStatus
from .stats_minutes import MinuteSeries

UNITS = {"image": "megapixelsteps", "text": "tokens", "interrogation": "forms"}
LABELS = {"image": "Images", "text": "Text", "interrogation": "Alchemy"}


@dataclass(frozen=True, slots=True)
class KindBoard:
    kind: str
    label: str
    unit: str
    workers: int
    threads: int
    queued_jobs: int
    queued_units: int
    jobs_per_minute: float  # over the last complete minutes
    units_per_minute: float
    eta: int | None  # seconds to drain the queue at that pace; None when nothing finishes


@dataclass(frozen=True, slots=True)
class StatusBoard:
    """Everything the status page and /metrics show, built at most every web.status_ttl seconds."""

    name: str
    built_at: float
    news: list[dict[str, Any]]
    kinds: list[KindBoard]
    models: list[ModelStatus]
    series: dict[str, MinuteSeries]
    queued_per_model: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Leaderboard:
    kudos: list[tuple[str, int]]
    images: list[tuple[str, int]]
    ratings: list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class GalleryImage:
    job_id: str
    url: str
    prompt: str
    model: str
    finished_at: float


@dataclass(frozen=True, slots=True)
class RequestView:
    id: str
    kind: str
    state: str
    created_at: float
    prompt: str
    n: int
    images: list[str]  # signed URLs of finished, unpruned, uncensored images
    texts: list[str]
    censored: int


@dataclass(frozen=True, slots=True)
class Account:
    user_id: int
    name: str
    kudos: int
    trusted: bool
    created_at: float
    admin: bool
    ledger: list[dict[str, Any]]
    transfers: list[dict[str, Any]]
    requests: list[RequestView]
    workers: list[Any]  # WorkerInfo


@dataclass(frozen=True, slots=True)
class MetricsFacts:
    """What /metrics reads besides the status board: horde-wide totals from the database, refreshed with it."""

    ledger_id: int  # the last ledger row counted: the next refresh sums only newer rows
    kudos_minted: int
    kudos_burned: int
    strikes: dict[str, int]  # reason -> strikes ever recorded (still in the table)
    sanctions: dict[str, int]  # state -> penalties in force
