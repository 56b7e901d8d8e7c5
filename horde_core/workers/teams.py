"""Reads and writes of worker teams, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import Team, User, Worker

_teams = Team.__table__
_users = User.__table__
_workers = Worker.__table__


@dataclass(frozen=True, slots=True)
class TeamRow:
    id: str
    name: str
    info: str
    owner_id: int
    owner_name: str
    created_at: float


_SELECT = select(_teams, _users.c.username).join(_users, _users.c.id == _teams.c.owner_id)


def _row(r: Any) -> TeamRow:
    return TeamRow(r.id, r.name, r.info or "", int(r.owner_id), f"{r.username}#{r.owner_id}", float(r.created_at))


async def by_id(conn: AsyncConnection, team_id: str) -> TeamRow | None:
    r = (await conn.execute(_SELECT.where(_teams.c.id == team_id))).first()
    return _row(r) if r else None


async def listing(conn: AsyncConnection) -> list[TeamRow]:
    return [_row(r) for r in (await conn.execute(_SELECT.order_by(_teams.c.created_at, _teams.c.id))).all()]


async def create(conn: AsyncConnection, team_id: str, name: str, info: str, owner_id: int, now: float) -> bool:
    """False when the name is taken (names are unique, as in AI Horde)."""
    try:
        async with conn.begin_nested():
            await conn.execute(insert(_teams).values(id=team_id, name=name, info=info, owner_id=owner_id,
                                                     created_at=now))
    except IntegrityError:
        return False
    return True


async def rename(conn: AsyncConnection, team_id: str, name: str) -> bool:
    """False when another team has this name."""
    try:
        async with conn.begin_nested():
            await conn.execute(update(_teams).where(_teams.c.id == team_id).values(name=name))
    except IntegrityError:
        return False
    return True


async def set_info(conn: AsyncConnection, team_id: str, info: str) -> None:
    await conn.execute(update(_teams).where(_teams.c.id == team_id).values(info=info))


async def remove(conn: AsyncConnection, team_id: str) -> list[tuple[str, str]]:
    """Delete a team; its workers stay, teamless. Returns those workers (id, name) for the caches."""
    members = [(r.id, r.name) for r in await conn.execute(
        select(_workers.c.id, _workers.c.name).where(_workers.c.team_id == team_id))]
    await conn.execute(update(_workers).where(_workers.c.team_id == team_id).values(team_id=None))
    await conn.execute(delete(_teams).where(_teams.c.id == team_id))
    return members
