"""Engine, transactions and migrations for SQLite (default) and PostgreSQL.

SQLite allows one writer at a time, so writes go through a single connection that opens
its transactions with `BEGIN IMMEDIATE` (no lock upgrades, no SQLITE_BUSY half way through a
use case); reads use a small pool of their own, which WAL lets run beside the writer.
PostgreSQL uses one pooled engine for both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from horde_core.models import metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_engine(url: str, pool_size: int, *, immediate: bool) -> AsyncEngine:
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=60)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver; we emit BEGIN ourselves.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """The storage behind the core: `transaction()` for a use case, `read()` for queries."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.dialect = "sqlite"
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._writer = _sqlite_engine(url, 1, immediate=True)
            self._reader = _sqlite_engine(url, 4, immediate=False)
        else:
            self.dialect = "postgresql"
            self._writer = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
            self._reader = self._writer

    @property
    def engine(self) -> AsyncEngine:
        return self._writer

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One use case, committed at the end or rolled back on error."""
        async with self._writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection whose statements all see one snapshot (a check that counts jobs and
        reads kudos must not mix two moments). SQLite's read transactions already do."""
        async with self._reader.connect() as conn:
            if self.dialect == "postgresql":
                conn = await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            yield conn
            await conn.rollback()

    async def create_all(self) -> None:
        """Create every table straight from the models (tests); production uses `migrate()`."""
        async with self._writer.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        async with self._writer.begin() as conn:
            await conn.run_sync(run_migrations)

    async def dispose(self) -> None:
        await self._writer.dispose()
        if self._reader is not self._writer:
            await self._reader.dispose()


def alembic_config(connection: Any = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def run_migrations(sync_conn: Any) -> None:
    from alembic import command

    command.upgrade(alembic_config(sync_conn), "head")
