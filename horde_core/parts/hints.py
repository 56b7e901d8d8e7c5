"""Hints that keep hot paths off the database: "is anything of this kind waiting?" (pops) and "is any penalty in
force anywhere?" (requests). Most of the time the answer is no, and then a pop or a request needs no read.

An answer is re-read at most every HINT_TTL seconds; a local write sets it at once (`note`), and tells the
other nodes too (event "hint", at most a few times a second per name), so a job queued on node A is seen by a
worker polling node B without waiting out B's hint.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from horde_core.events import RESYNC, Bus

HINT_TTL = 1.0
ANNOUNCE_EVERY = 0.25


class Hints:
    def __init__(self, events: Bus, *, ttl: float = HINT_TTL) -> None:
        self._events = events
        self._ttl = ttl
        self._values: dict[str, tuple[bool, float]] = {}
        self._announced: dict[str, float] = {}
        # Bumped whenever an answer may have changed (a worker's "skipped" reasons are re-read then).
        self.version = 0
        events.subscribe("hint", self._on_hint)
        events.subscribe(RESYNC, self._forget_all)

    def note(self, name: str) -> None:
        """Something of `name` exists now (a job was queued or requeued, a penalty was set)."""
        now = time.monotonic()
        self._set(name, now)
        if now - self._announced.get(name, -1e9) >= ANNOUNCE_EVERY:
            self._announced[name] = now
            self._events.publish("hint", {"name": name})

    def forget(self, name: str) -> None:
        """Re-read this answer next time (after a change that may have removed something)."""
        self._values.pop(name, None)
        self.version += 1

    async def maybe(self, name: str, load: Callable[[], Awaitable[bool]]) -> bool:
        """False only when nothing of `name` existed at our last look, under HINT_TTL seconds ago."""
        hit = self._values.get(name)
        now = time.monotonic()
        if hit is not None and now - hit[1] < self._ttl:
            return hit[0]
        value = await load()
        if hit is None or hit[0] != value:
            self.version += 1
        self._values[name] = (value, now)
        return value

    def _set(self, name: str, now: float) -> None:
        self._values[name] = (True, now)
        self.version += 1

    def _on_hint(self, payload: dict[str, Any]) -> None:
        self._set(str(payload.get("name", "")), time.monotonic())

    def _forget_all(self, _payload: dict[str, Any]) -> None:
        self._values.clear()
        self.version += 1
