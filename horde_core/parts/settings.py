"""Per-community settings, read on every bot command and request: cached, and dropped on every node when
they change (`settings_changed`), so a moderator's change holds everywhere at once."""

from __future__ import annotations

import time
from typing import Any

from horde_core.events import RESYNC, Bus

SETTINGS_TTL = 30.0  # a bound for the worst case (a missed event), not how changes travel


class SettingsCache:
    def __init__(self, events: Bus, *, ttl: float = SETTINGS_TTL) -> None:
        self._events = events
        self._ttl = ttl
        self._entries: dict[str, tuple[float, dict[str, Any]]] = {}
        events.subscribe("settings_changed", self._on_changed)
        events.subscribe(RESYNC, self._forget_all)

    def get(self, scope: str) -> dict[str, Any] | None:
        hit = self._entries.get(scope)
        if hit is None or time.monotonic() - hit[0] >= self._ttl:
            return None
        return dict(hit[1])

    def put(self, scope: str, data: dict[str, Any]) -> None:
        if len(self._entries) > 100_000:
            self._entries.clear()
        self._entries[scope] = (time.monotonic(), dict(data))

    def changed(self, scope: str, data: dict[str, Any]) -> None:
        """Call after the transaction that saved `data` committed: every other node drops its copy."""
        self._events.publish("settings_changed", {"scope": scope})
        self.put(scope, data)

    def _on_changed(self, payload: dict[str, Any]) -> None:
        self._entries.pop(str(payload.get("scope", "")), None)

    def _forget_all(self, _payload: dict[str, Any]) -> None:
        self._entries.clear()
