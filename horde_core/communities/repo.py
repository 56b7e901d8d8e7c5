"""Community settings as versioned JSON, changed with optimistic concurrency and logged."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import CommunitySettings, SettingsChange

_settings = CommunitySettings.__table__
_changes = SettingsChange.__table__


async def load(conn: AsyncConnection, scope: str, *, for_update: bool = False) -> tuple[dict[str, Any], int]:
    query = select(_settings.c.data, _settings.c.version).where(_settings.c.scope == scope)
    if for_update:  # PostgreSQL: changes queue up instead of retrying (SQLite already has one writer)
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return {}, 0
    return json.loads(row.data), int(row.version)


async def save(conn: AsyncConnection, scope: str, data: dict[str, Any], version: int, now: float) -> bool:
    """Write the new settings if nobody else did since `version` was read."""
    encoded = json.dumps(data, sort_keys=True)
    if version == 0:
        try:
            async with conn.begin_nested():
                await conn.execute(insert(_settings).values(scope=scope, data=encoded, version=1, updated_at=now))
        except IntegrityError:
            return False
        return True
    result = await conn.execute(update(_settings).where(_settings.c.scope == scope, _settings.c.version == version)
                                .values(data=encoded, version=version + 1, updated_at=now))
    return result.rowcount == 1


async def log_changes(conn: AsyncConnection, scope: str, changes: list[tuple[str, Any, Any]], actor: str,
                      now: float) -> None:
    if changes:
        await conn.execute(insert(_changes), [
            {"scope": scope, "key": key, "old": json.dumps(old), "new": json.dumps(new), "actor": actor[:200],
             "at": now} for key, old, new in changes])


async def history(conn: AsyncConnection, scope: str, limit: int = 50) -> list[Any]:
    return list((await conn.execute(select(_changes).where(_changes.c.scope == scope)
                                    .order_by(_changes.c.id.desc()).limit(limit))).all())
