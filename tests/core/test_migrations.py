"""Alembic migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from horde_core.db import Database
from horde_core.models import metadata


async def test_migrations_match_models(db_url: str) -> None:
    db = Database(db_url)
    try:
        await db.migrate()
        await db.migrate()  # idempotent at head

        def diff(sync_conn):  # type: ignore[no-untyped-def]
            return compare_metadata(MigrationContext.configure(sync_conn), metadata)

        async with db.read() as conn:
            changes = await conn.run_sync(diff)
        assert changes == []
    finally:
        await db.dispose()
