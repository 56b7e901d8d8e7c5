"""Wrong API keys at the web login, counted per address: after `limit` wrong keys the address may not try again
until the window has refilled its allowance (so a key cannot be guessed through the login form).

The count is a token bucket of the node's `limits` part (`limit` tokens, refilled over `window` seconds):
on several nodes it lives in PostgreSQL, so a guesser gets `limit` tries in all, not `limit` per node.
"""

from __future__ import annotations

from horde_core.parts import RateLimiter


class LoginGuard:
    def __init__(self, limits: RateLimiter, limit: int = 10, window: float = 900.0) -> None:
        self.limits, self.limit, self.window = limits, limit, window

    def _key(self, who: str) -> str:
        return f"login:{who}"

    async def blocked_for(self, who: str) -> float:
        """Seconds until `who` may try again (0: now)."""
        wait = await self.limits.wait(self._key(who), self.limit / self.window, self.limit)
        return max(1.0, wait) if wait else 0.0

    async def failed(self, who: str) -> None:
        await self.limits.limited(self._key(who), self.limit / self.window, self.limit)
