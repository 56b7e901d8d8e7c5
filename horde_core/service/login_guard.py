"""Wrong API keys at the web login, counted per address: after `limit` wrong keys within `window` seconds the
address may not try again until the window has passed (so a key cannot be guessed through the login form)."""

from __future__ import annotations

from collections import deque

from horde_core.clock import Clock


class LoginGuard:
    def __init__(self, clock: Clock, limit: int = 10, window: float = 900.0) -> None:
        self.clock, self.limit, self.window = clock, limit, window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, who: str) -> deque[float]:
        now = self.clock.now()
        failures = self._failures.get(who)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(who, None)
        return failures

    def blocked_for(self, who: str) -> float:
        """Seconds until `who` may try again (0: now)."""
        failures = self._recent(who)
        if len(failures) < self.limit:
            return 0.0
        return max(1.0, failures[-self.limit] + self.window - self.clock.now())

    def failed(self, who: str) -> None:
        if len(self._failures) > 100_000:
            self._failures.clear()
        self._failures.setdefault(who, deque()).append(self.clock.now())
