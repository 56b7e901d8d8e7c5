"""The worker registry (workers this node has seen pop, by name) and the online-workers list per kind.

A polling worker is looked up on every pop, so the registry keeps its row and matching profile in memory and
writes its check-in only when it changed or is due. A change made anywhere else (maintenance, info: the
worker's owner through any node) is announced with `worker_changed`; every node then drops that worker from
its registry and the online lists, and re-reads them on the next pop or listing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from horde_core.events import RESYNC, Bus
from horde_core.queue.matching import WorkerProfile
from horde_core.workers.repo import WorkerRow

ONLINE_TTL = 5.0
NAME_TTL = 60.0


@dataclass(slots=True)
class CachedWorker:
    row: WorkerRow
    profile: WorkerProfile
    profile_key: tuple = ()  # type: ignore[type-arg]
    written_at: float = 0.0
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_version: int = -1
    skipped_at: float = 0.0


class WorkerRegistry:
    def __init__(self, events: Bus) -> None:
        self._events = events
        self._by_name: dict[str, CachedWorker] = {}
        self._user_ids: dict[str, tuple[float, int | None]] = {}
        events.subscribe("worker_changed", self._on_changed)
        events.subscribe("user_changed", self._on_owner_changed)  # a worker's profile carries its owner's trust
        events.subscribe(RESYNC, self._forget_all)

    def get(self, name: str) -> CachedWorker | None:
        return self._by_name.get(name)

    def put(self, name: str, worker: CachedWorker) -> None:
        self._by_name[name] = worker

    def by_id(self, worker_id: str) -> CachedWorker | None:
        for cached in self._by_name.values():
            if cached.row.id == worker_id:
                return cached
        return None

    def __iter__(self) -> Iterator[CachedWorker]:
        return iter(list(self._by_name.values()))

    def worker_changed(self, worker_id: str, name: str) -> None:
        """Call after the transaction that changed a worker's row committed."""
        self._events.publish("worker_changed", {"id": worker_id, "name": name})

    def _on_changed(self, payload: dict[str, Any]) -> None:
        self._by_name.pop(str(payload.get("name", "")), None)

    def _on_owner_changed(self, payload: dict[str, Any]) -> None:
        owner = payload.get("user_id")
        for name in [n for n, w in self._by_name.items() if owner is None or w.row.owner_id == owner]:
            self._by_name.pop(name, None)

    def _forget_all(self, _payload: dict[str, Any]) -> None:
        self._by_name.clear()
        self._user_ids.clear()

    # `priority_usernames` (name#id) of pops, resolved to user ids and remembered for a minute.
    def user_id(self, name: str) -> tuple[bool, int | None]:
        hit = self._user_ids.get(name)
        if hit is None or time.monotonic() - hit[0] > NAME_TTL:
            return False, None
        return True, hit[1]

    def remember_user_id(self, name: str, user_id: int | None) -> None:
        if len(self._user_ids) > 10_000:
            self._user_ids.clear()
        self._user_ids[name] = (time.monotonic(), user_id)


class OnlineWorkers:
    """Workers of a kind that may take jobs now (as the loader says), re-read every ONLINE_TTL seconds or when a
    worker changed."""

    def __init__(self, events: Bus, *, ttl: float = ONLINE_TTL) -> None:
        self._ttl = ttl
        self._lists: dict[str, tuple[float, list[WorkerRow]]] = {}
        events.subscribe("worker_changed", self.forget)
        events.subscribe("user_changed", self.forget)  # rows carry their owner's trust
        events.subscribe(RESYNC, self.forget)

    async def get(self, kind: str, load: Callable[[str], Awaitable[list[WorkerRow]]]) -> list[WorkerRow]:
        hit = self._lists.get(kind)
        now = time.monotonic()
        if hit is None or now - hit[0] > self._ttl:
            hit = (now, await load(kind))
            self._lists[kind] = hit
        return hit[1]

    def forget(self, _payload: dict[str, Any] | None = None) -> None:
        self._lists.clear()
