"""The auth cache: which user an API key belongs to, without a database read on every request.

Entries live AUTH_TTL seconds. A changed key (or anything else about a user that authentication returns) is
announced with `user_changed`, and every node's cache drops that user's entries at once: in-process on one
node, across nodes when the node runs the PostgreSQL bus.
"""

from __future__ import annotations

import time
from typing import Any

from horde_core.events import RESYNC, Bus
from horde_core.users.repo import UserRow

AUTH_TTL = 10.0
MAX_ENTRIES = 50_000


class AuthCache:
    def __init__(self, events: Bus, *, ttl: float = AUTH_TTL) -> None:
        self._events = events
        self._ttl = ttl
        self._entries: dict[str, tuple[float, UserRow]] = {}
        events.subscribe("user_changed", self._on_user_changed)
        events.subscribe(RESYNC, self._forget_all)

    def get(self, digest: str) -> UserRow | None:
        hit = self._entries.get(digest)
        if hit is None or time.monotonic() - hit[0] >= self._ttl:
            return None
        return hit[1]

    def put(self, digest: str, user: UserRow) -> None:
        if len(self._entries) > MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest] = (time.monotonic(), user)

    def user_changed(self, user_id: int) -> None:
        """Call after the transaction that changed a user's key (or trust, ...) committed."""
        self._events.publish("user_changed", {"user_id": user_id})

    def _on_user_changed(self, payload: dict[str, Any]) -> None:
        user_id = payload.get("user_id")
        if user_id is None:
            self._entries.clear()
            return
        for digest in [d for d, (_, u) in self._entries.items() if u.id == user_id]:
            self._entries.pop(digest, None)

    def _forget_all(self, _payload: dict[str, Any]) -> None:
        self._entries.clear()
