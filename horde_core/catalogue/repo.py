"""A community's own catalogue entries in the database."""

from __future__ import annotations

import json

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import CatalogueEntry

from .entries import Entry

_entries = CatalogueEntry.__table__
C = _entries.c


async def community_entries(conn: AsyncConnection, community: str) -> list[Entry]:
    rows = (await conn.execute(select(_entries).where(C.community == community))).all()
    return [Entry(kind=r.kind, name=r.name, horde_name=r.horde_name, triggers=tuple(json.loads(r.triggers)),
                  family=r.family, size_mb=r.size_mb or None, community=True) for r in rows]


async def count(conn: AsyncConnection, community: str) -> int:
    return int(await conn.scalar(select(func.count()).select_from(_entries).where(C.community == community)) or 0)


async def add(conn: AsyncConnection, community: str, entry: Entry, actor: str, now: float) -> bool:
    """False when the community already has an entry of that kind and name."""
    try:
        async with conn.begin_nested():
            await conn.execute(insert(_entries).values(
                community=community, kind=entry.kind, name=entry.name, horde_name=entry.horde_name,
                triggers=json.dumps(list(entry.triggers)), family=entry.family, size_mb=entry.size_mb or 0.0,
                added_by=actor[:200], at=now))
    except IntegrityError:
        return False
    return True


async def add_many(conn: AsyncConnection, community: str, entries: list[Entry], actor: str, now: float) -> None:
    """Bulk insert (benchmarks and imports); the caller made sure the names are new."""
    if entries:
        await conn.execute(insert(_entries), [
            {"community": community, "kind": e.kind, "name": e.name, "horde_name": e.horde_name,
             "triggers": json.dumps(list(e.triggers)), "family": e.family, "size_mb": e.size_mb or 0.0,
             "added_by": actor[:200], "at": now} for e in entries])


async def remove(conn: AsyncConnection, community: str, kind: str, name: str) -> int:
    """Remove by name or horde name (case-insensitive); the number of entries removed."""
    folded = name.strip().casefold()
    result = await conn.execute(delete(_entries).where(
        C.community == community, C.kind == kind,
        or_(func.lower(C.name) == folded, func.lower(C.horde_name) == folded)))
    return int(result.rowcount or 0)
