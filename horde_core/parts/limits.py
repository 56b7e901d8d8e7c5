"""Rate limits: token buckets (requests per key) and at-most-once-per-interval gates (throttled members).

One interface, two implementations: `LocalRateLimiter` keeps the buckets in this process (one node: SQLite, or
PostgreSQL with `core.shared_state = "local"`); `PgRateLimiter` keeps them in an unlogged PostgreSQL table,
each take one atomic statement, so a burst allowed once is allowed once across every node.

Both answer "limited?" (True: refuse this one). Times come from the node's clock (keep nodes' clocks in sync).
"""

from __future__ import annotations

import math
from typing import Protocol

from sqlalchemy import Float, String, bindparam, text

from horde_core.clock import Clock
from horde_core.db import Database

KEEP_IDLE = 3600.0  # buckets untouched this long are full again (or open again): forgotten


class RateLimiter(Protocol):
    async def limited(self, key: str, rate: float, burst: int) -> bool:
        """Take a token from `key`'s bucket (`rate` a second, up to `burst`); True when there was none."""
        ...

    async def limited_every(self, key: str, interval: float) -> bool:
        """True when `key` passed under `interval` seconds ago; otherwise it passes now."""
        ...

    async def wait(self, key: str, rate: float, burst: int) -> float:
        """Seconds until `key`'s bucket has a token again (0: now), taking none."""
        ...

    async def prune(self) -> None: ...


class LocalRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._gates: dict[str, float] = {}

    async def limited(self, key: str, rate: float, burst: int) -> bool:
        now = self._clock.now()
        tokens, last = self._buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + max(0.0, now - last) * rate)
        if len(self._buckets) > 100_000:
            self._buckets.clear()
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return True
        self._buckets[key] = (tokens - 1.0, now)
        return False

    async def wait(self, key: str, rate: float, burst: int) -> float:
        now = self._clock.now()
        tokens, last = self._buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + max(0.0, now - last) * rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate

    async def limited_every(self, key: str, interval: float) -> bool:
        now = self._clock.now()
        if now - self._gates.get(key, -math.inf) < interval:
            return True
        if len(self._gates) > 100_000:
            self._gates.clear()
        self._gates[key] = now
        return False

    async def prune(self) -> None:
        cutoff = self._clock.now() - KEEP_IDLE
        self._buckets = {k: v for k, v in self._buckets.items() if v[1] >= cutoff}
        self._gates = {k: v for k, v in self._gates.items() if v >= cutoff}


_TAKE = text("""
INSERT INTO rate_buckets AS b (key, tokens, at, ok) VALUES (:key, :burst - 1, :now, :burst >= 1)
ON CONFLICT (key) DO UPDATE SET
    ok = LEAST(:burst, b.tokens + GREATEST(0, :now - b.at) * :rate) >= 1,
    tokens = LEAST(:burst, b.tokens + GREATEST(0, :now - b.at) * :rate)
             - CASE WHEN LEAST(:burst, b.tokens + GREATEST(0, :now - b.at) * :rate) >= 1 THEN 1 ELSE 0 END,
    at = GREATEST(b.at, :now)
RETURNING ok""").bindparams(bindparam("key", type_=String), bindparam("burst", type_=Float),
                               bindparam("rate", type_=Float), bindparam("now", type_=Float))

_PEEK = text("SELECT LEAST(:burst, tokens + GREATEST(0, :now - at) * :rate) FROM rate_buckets WHERE key = :key"
             ).bindparams(bindparam("key", type_=String), bindparam("burst", type_=Float),
                          bindparam("rate", type_=Float), bindparam("now", type_=Float))

_GATE = text("""
INSERT INTO rate_buckets AS b (key, tokens, at, ok) VALUES (:key, 0, :now, true)
ON CONFLICT (key) DO UPDATE SET
    ok = :now - b.at >= :interval,
    at = CASE WHEN :now - b.at >= :interval THEN :now ELSE b.at END
RETURNING ok""").bindparams(bindparam("key", type_=String), bindparam("interval", type_=Float),
                               bindparam("now", type_=Float))


class PgRateLimiter:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def limited(self, key: str, rate: float, burst: int) -> bool:
        async with self._db.autocommit() as conn:
            ok = await conn.scalar(_TAKE, {"key": key[:300], "rate": float(rate), "burst": float(burst),
                                           "now": self._clock.now()})
        return not ok

    async def wait(self, key: str, rate: float, burst: int) -> float:
        async with self._db.autocommit() as conn:
            tokens = await conn.scalar(_PEEK, {"key": key[:300], "rate": float(rate), "burst": float(burst),
                                               "now": self._clock.now()})
        return 0.0 if tokens is None or tokens >= 1.0 else (1.0 - float(tokens)) / rate

    async def limited_every(self, key: str, interval: float) -> bool:
        async with self._db.autocommit() as conn:
            ok = await conn.scalar(_GATE, {"key": key[:300], "interval": float(interval), "now": self._clock.now()})
        return not ok

    async def prune(self) -> None:
        async with self._db.autocommit() as conn:
            await conn.execute(text("DELETE FROM rate_buckets WHERE at < :cutoff").bindparams(
                bindparam("cutoff", type_=Float)),
                               {"cutoff": self._clock.now() - KEEP_IDLE})
