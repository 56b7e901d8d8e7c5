"""Engine, transactions and migrations for SQLite (default) and PostgreSQL.

SQLite (`sqlite:///FILE`) runs inline on the event loop: its statements take microseconds, while a
hop to a driver thread per statement (aiosqlite) costs more than the work and keeps the single
writer's lock held across many loop turns. Writes go through one connection, one use case at a
time (an asyncio lock), opening transactions with `BEGIN IMMEDIATE`; reads use their own
connections, which WAL lets run beside the writer. `sqlite+aiosqlite:///FILE` keeps the threaded
driver, for comparison. PostgreSQL (asyncpg) uses one pooled engine for both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from horde_core.db.failures import storage_failure
from horde_core.db.locks import xact_lock
from horde_core.models import metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_events(engine: Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver; we emit BEGIN ourselves.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class InlineConnection:
    """The AsyncConnection methods the core uses, over a sync connection, without leaving the loop."""

    def __init__(self, conn: Connection) -> None:
        self.sync_connection = conn

    @property
    def dialect(self) -> Any:
        return self.sync_connection.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        if parameters is None:
            return self.sync_connection.execute(statement)
        return self.sync_connection.execute(statement, parameters)

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        return self.sync_connection.scalar(statement, parameters)

    async def run_sync(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return fn(self.sync_connection, *args, **kwargs)

    def begin_nested(self) -> _Savepoint:
        return _Savepoint(self.sync_connection)

    async def rollback(self) -> None:
        self.sync_connection.rollback()


class _Savepoint:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def __aenter__(self) -> Any:
        self._tx = self._conn.begin_nested()
        return self._tx

    async def __aexit__(self, exc_type: Any, *_: Any) -> bool:
        if exc_type is None:
            self._tx.commit()
        else:
            self._tx.rollback()
        return False


def _sqlite_path(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


class Database:
    """The storage behind the core: `transaction()` for a use case, `read()` for queries."""

    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        self.url = url
        self.inline = url.startswith("sqlite:")
        if self.inline:
            self.dialect = "sqlite"
            _sqlite_path(url)
            self._sync_writer = create_engine(url, pool_size=1, max_overflow=0)
            # Reads never wait for a pooled connection: a blocked pool would block the loop.
            self._sync_reader = create_engine(url, pool_size=8, max_overflow=-1)
            _sqlite_events(self._sync_writer, immediate=True)
            _sqlite_events(self._sync_reader, immediate=False)
            self._write_lock: asyncio.Lock | None = None
        elif url.startswith("sqlite"):
            self.dialect = "sqlite"
            _sqlite_path(url)
            self._writer = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)
            self._reader = create_async_engine(url, pool_size=4, max_overflow=0, pool_timeout=60)
            _sqlite_events(self._writer.sync_engine, immediate=True)
            _sqlite_events(self._reader.sync_engine, immediate=False)
        else:
            self.dialect = "postgresql"
            self._writer = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
            self._reader = self._writer

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One use case, committed at the end or rolled back on error."""
        if self.inline:
            if self._write_lock is None:
                self._write_lock = asyncio.Lock()
            async with self._write_lock:
                with self._sync_writer.begin() as conn:
                    yield InlineConnection(conn)  # type: ignore[misc]
            return
        async with self._writer.begin() as aconn:
            yield aconn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection whose statements all see one snapshot (a check that counts jobs and
        reads kudos must not mix two moments)."""
        if self.inline:
            with self._sync_reader.connect() as conn:
                conn.begin()
                try:
                    yield InlineConnection(conn)  # type: ignore[misc]
                finally:
                    conn.rollback()
            return
        async with self._reader.connect() as aconn:
            if self.dialect == "postgresql":
                aconn = await aconn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            yield aconn
            await aconn.rollback()

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection whose every statement commits by itself: one round trip for a one-statement write
        (shared rate buckets). SQLite: an ordinary write transaction."""
        if self.dialect != "postgresql":
            async with self.transaction() as conn:
                yield conn
            return
        async with self._writer.connect() as aconn:
            yield await aconn.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def advisory_lock(self, name: str) -> AsyncIterator[bool]:
        """Whether this process holds the cluster-wide lock `name` for the block (PostgreSQL: a session
        advisory lock, tried without waiting; another node holding it makes this False). SQLite has one
        process: always True."""
        if self.dialect != "postgresql":
            yield True
            return
        key = lock_key(name)
        async with self._writer.connect() as aconn:
            aconn = await aconn.execution_options(isolation_level="AUTOCOMMIT")
            got = bool(await aconn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
            try:
                yield got
            finally:
                if got:
                    await aconn.scalar(text("SELECT pg_advisory_unlock(:k)"), {"k": key})

    @asynccontextmanager
    async def rolled_back(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction that is always rolled back (tests and dry runs)."""
        try:
            async with self.transaction() as conn:
                yield conn
                raise _Rollback
        except _Rollback:
            pass

    async def run_sync(self, fn: Callable[[Connection], Any]) -> Any:
        """Run `fn` on a sync connection inside a write transaction (schema work, migrations)."""
        async with self.transaction() as conn:
            return await conn.run_sync(fn)

    async def create_all(self) -> None:
        """Create every table straight from the models (tests); production uses `migrate()`."""
        await self.run_sync(metadata.create_all)

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision. On PostgreSQL the migration holds an advisory
        lock, so nodes starting at once take turns: the first migrates, the others find it done (without
        it, two nodes on an empty database both created the tables and one crashed)."""
        async with self.transaction() as conn:
            await xact_lock(conn, self.dialect, "hordebot:migrations")
            await conn.run_sync(run_migrations)

    async def dispose(self) -> None:
        if self.inline:
            self._sync_writer.dispose()
            self._sync_reader.dispose()
            return
        await self._writer.dispose()
        if self._reader is not self._writer:
            await self._reader.dispose()


__all__ = ["Database", "storage_failure", "xact_lock"]


class _Rollback(Exception):
    pass


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a name (the same on every node)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(f"hordebot:{name}".encode()).digest()[:8], "big", signed=True)


def alembic_config(connection: Any = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def run_migrations(sync_conn: Any) -> None:
    from alembic import command

    command.upgrade(alembic_config(sync_conn), "head")
