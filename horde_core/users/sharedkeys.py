"""Reads and writes of shared keys, inside the caller's transaction. Keys are found by their digest only.

Their remaining kudos are spent and given back by the ledger (ledger/allowances.py), never here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import SharedKey, User
from horde_core.users.keys import SharedKeyGrant

_keys = SharedKey.__table__
_users = User.__table__


@dataclass(frozen=True, slots=True)
class SharedKeyRow:
    key_hash: str
    owner_id: int
    owner_name: str
    name: str | None
    kudos: int
    utilized: int
    expires_at: float | None
    max_image_pixels: int
    max_image_steps: int
    max_text_tokens: int
    created_at: float

    def grant(self) -> SharedKeyGrant:
        return SharedKeyGrant(self.key_hash, self.name, self.expires_at, self.max_image_pixels,
                              self.max_image_steps, self.max_text_tokens)


_SELECT = select(_keys, _users.c.username).join(_users, _users.c.id == _keys.c.owner_id)


def _row(r: Any) -> SharedKeyRow:
    return SharedKeyRow(r.key_hash, int(r.owner_id), f"{r.username}#{r.owner_id}", r.name, int(r.kudos),
                        int(r.utilized), None if r.expires_at is None else float(r.expires_at),
                        int(r.max_image_pixels), int(r.max_image_steps), int(r.max_text_tokens), float(r.created_at))


async def by_hash(conn: AsyncConnection, key_hash: str) -> SharedKeyRow | None:
    row = (await conn.execute(_SELECT.where(_keys.c.key_hash == key_hash))).first()
    return _row(row) if row else None


async def count_of_owner(conn: AsyncConnection, owner_id: int) -> int:
    return int(await conn.scalar(select(func.count()).select_from(_keys).where(_keys.c.owner_id == owner_id)) or 0)


async def create(conn: AsyncConnection, key_hash: str, owner_id: int, now: float, **values: Any) -> SharedKeyRow:
    await conn.execute(insert(_keys).values(key_hash=key_hash, owner_id=owner_id, created_at=now, utilized=0,
                                            **values))
    row = await by_hash(conn, key_hash)
    assert row is not None
    return row


async def set_fields(conn: AsyncConnection, key_hash: str, **values: Any) -> None:
    await conn.execute(update(_keys).where(_keys.c.key_hash == key_hash).values(**values))


async def remove(conn: AsyncConnection, key_hash: str) -> None:
    await conn.execute(delete(_keys).where(_keys.c.key_hash == key_hash))
