"""The node's state as named parts, each with one interface and handed to the use cases that need it.

| part          | what it holds                                            | shared across nodes by              |
|---------------|----------------------------------------------------------|-------------------------------------|
| events        | pub/sub to the bot and between the parts                 | PostgreSQL LISTEN/NOTIFY            |
| auth          | API key digest -> user, 10 s                             | `user_changed` drops entries        |
| workers       | workers that popped here, by name; priority names        | `worker_changed` drops the worker   |
| online        | online workers per kind, 5 s                             | `worker_changed` drops the lists    |
| limits        | token buckets and per-interval gates                     | an unlogged PostgreSQL table        |
| communities   | per-community settings, 30 s                             | `settings_changed` drops the scope  |
| hints         | "anything waiting?" per kind, "any penalty?", 1 s        | `hint` sets them on every node      |

`in_process_parts` serves one process (SQLite, the default); `shared_parts` serves one of several nodes on one
PostgreSQL database. main.py picks (`core.shared_state`); the caches are the same classes in both, kept coherent
by whichever bus they are given. Nothing here imports the service: the service receives these.
"""

from __future__ import annotations

from dataclasses import dataclass

from horde_core.clock import Clock
from horde_core.db import Database
from horde_core.events import Bus, EventBus

from .auth import AuthCache
from .hints import Hints
from .limits import LocalRateLimiter, PgRateLimiter, RateLimiter
from .settings import SettingsCache
from .workers import CachedWorker, OnlineWorkers, WorkerRegistry


@dataclass(frozen=True)
class NodeParts:
    events: Bus
    auth: AuthCache
    workers: WorkerRegistry
    online: OnlineWorkers
    limits: RateLimiter
    communities: SettingsCache
    hints: Hints
    shared: bool = False

    async def start(self) -> None:
        await self.events.start()

    async def close(self) -> None:
        await self.events.close()


def _build(events: Bus, limits: RateLimiter, *, shared: bool) -> NodeParts:
    return NodeParts(events=events, auth=AuthCache(events), workers=WorkerRegistry(events),
                     online=OnlineWorkers(events), limits=limits, communities=SettingsCache(events),
                     hints=Hints(events), shared=shared)


def in_process_parts(clock: Clock, events: Bus | None = None) -> NodeParts:
    """Everything in this process: the single-node default."""
    return _build(events or EventBus(), LocalRateLimiter(clock), shared=False)


def shared_parts(db: Database, clock: Clock) -> NodeParts:
    """Events over LISTEN/NOTIFY and rate buckets in the database: one of several nodes. Call `start()`."""
    from .pg_bus import PgEventBus

    return _build(PgEventBus(db.url), PgRateLimiter(db, clock), shared=True)


def parts_for(db: Database, clock: Clock, shared_state: str = "auto") -> NodeParts:
    """`core.shared_state`: "auto" shares on PostgreSQL, "local" never does."""
    if shared_state == "auto" and db.dialect == "postgresql":
        return shared_parts(db, clock)
    return in_process_parts(clock)


__all__ = ["AuthCache", "CachedWorker", "Hints", "LocalRateLimiter", "NodeParts", "OnlineWorkers", "PgRateLimiter",
           "RateLimiter", "SettingsCache", "WorkerRegistry", "in_process_parts", "parts_for", "shared_parts"]
