"""Serialising use cases that count and then insert (concurrency limits, worker names per user).

PostgreSQL: a transaction-scoped advisory lock on a name, released at commit or rollback, so nodes
and connections take turns. SQLite needs nothing: its single writer (BEGIN IMMEDIATE) already
serialises every write transaction, across processes too.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import text

_XACT_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


async def xact_lock(conn: Any, dialect: str, name: str) -> None:
    """Hold the lock `name` until the caller's transaction ends."""
    if dialect == "postgresql":
        await conn.execute(_XACT_LOCK, {"key": lock_key(name)})
