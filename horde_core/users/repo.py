"""Reads and writes of users and identities, always inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import ANONYMOUS_USER_ID, Identity, User
from horde_core.users.keys import ANONYMOUS_KEY, SharedKeyGrant, hash_key

_users = User.__table__
_identities = Identity.__table__


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    username: str
    kudos: int
    trusted: bool
    concurrency: int
    created_at: float
    moderator: bool = False
    customizer: bool = False
    flagged: bool = False
    # Set when the caller authenticated with one of this user's shared keys (generation requests only).
    shared_key: SharedKeyGrant | None = None

    @property
    def display_name(self) -> str:
        return f"{self.username}#{self.id}"

    @property
    def anonymous(self) -> bool:
        return self.id == ANONYMOUS_USER_ID


_COLUMNS = (_users.c.id, _users.c.username, _users.c.kudos, _users.c.trusted, _users.c.concurrency,
            _users.c.created_at, _users.c.moderator, _users.c.customizer, _users.c.flagged)


def _row(row) -> UserRow:  # type: ignore[no-untyped-def]
    return UserRow(int(row.id), row.username, int(row.kudos), bool(row.trusted), int(row.concurrency),
                   float(row.created_at), bool(row.moderator), bool(row.customizer), bool(row.flagged))


async def ensure_anonymous(conn: AsyncConnection, now: float, concurrency: int) -> None:
    """Create user 0 (key 0000000000) once; harmless when several nodes start together."""
    if await conn.scalar(select(_users.c.id).where(_users.c.id == ANONYMOUS_USER_ID)) is not None:
        return
    try:
        async with conn.begin_nested():
            await conn.execute(insert(_users).values(
                id=ANONYMOUS_USER_ID, username="Anonymous", api_key_hash=hash_key(ANONYMOUS_KEY),
                kudos=0, trusted=False, concurrency=concurrency, created_at=now))
    except IntegrityError:
        pass


_BY_KEY_HASH = select(*_COLUMNS).where(_users.c.api_key_hash == bindparam("digest"))


async def by_key_hash(conn: AsyncConnection, key_hash: str) -> UserRow | None:
    row = (await conn.execute(_BY_KEY_HASH, {"digest": key_hash})).first()
    return _row(row) if row else None


async def by_id(conn: AsyncConnection, user_id: int) -> UserRow | None:
    row = (await conn.execute(select(*_COLUMNS).where(_users.c.id == user_id))).first()
    return _row(row) if row else None


async def by_name(conn: AsyncConnection, name: str) -> UserRow | None:
    """Find by `name#id` (the horde's display form), bare id, or unique username."""
    if "#" in name:
        _, _, tail = name.rpartition("#")
        return await by_id(conn, int(tail)) if tail.isdecimal() and len(tail) < 10 else None
    if name.isdecimal() and len(name) < 10:
        return await by_id(conn, int(name))
    rows = (await conn.execute(select(*_COLUMNS).where(_users.c.username == name).limit(2))).all()
    return _row(rows[0]) if len(rows) == 1 else None


async def create(conn: AsyncConnection, now: float, username: str, key_hash: str | None, *,
                 trusted: bool = False, concurrency: int = 30) -> UserRow:
    """A new user with a zero balance (starting kudos are minted by the caller, through the ledger)."""
    user_id = await conn.scalar(insert(_users).values(
        username=username, api_key_hash=key_hash, kudos=0, trusted=trusted, concurrency=concurrency,
        created_at=now).returning(_users.c.id))
    assert user_id is not None
    row = await by_id(conn, int(user_id))
    assert row is not None
    return row


async def set_key_hash(conn: AsyncConnection, user_id: int, key_hash: str) -> None:
    await conn.execute(update(_users).where(_users.c.id == user_id).values(api_key_hash=key_hash))


async def listing(conn: AsyncConnection, limit: int = 1000) -> list[UserRow]:
    rows = (await conn.execute(select(*_COLUMNS).order_by(_users.c.id).limit(limit))).all()
    return [_row(r) for r in rows]


async def user_for_identity(conn: AsyncConnection, key: str) -> UserRow | None:
    row = (await conn.execute(
        select(*_COLUMNS).join(_identities, _identities.c.user_id == _users.c.id)
        .where(_identities.c.key == key))).first()
    return _row(row) if row else None


async def link_identity(conn: AsyncConnection, now: float, key: str, user_id: int) -> bool:
    """Attach an outside identity to a user; False when another user already has it."""
    try:
        async with conn.begin_nested():
            await conn.execute(insert(_identities).values(key=key, user_id=user_id, created_at=now))
    except IntegrityError:
        return False
    return True


async def count(conn: AsyncConnection) -> int:
    return int(await conn.scalar(select(func.count()).select_from(_users)) or 0)


async def users_for_identities(conn: AsyncConnection, keys: list[str]) -> dict[str, int]:
    """identity -> user id for those that exist (a read: nobody is created)."""
    if not keys:
        return {}
    rows = await conn.execute(select(_identities.c.key, _identities.c.user_id).where(_identities.c.key.in_(keys)))
    return {r.key: int(r.user_id) for r in rows}


async def identities_for_users(conn: AsyncConnection, user_ids: list[int], prefix: str = "") -> dict[int, str]:
    """user id -> its identity starting with `prefix` (the way back, for leaderboards and roles)."""
    if not user_ids:
        return {}
    q = select(_identities.c.user_id, _identities.c.key).where(_identities.c.user_id.in_(user_ids))
    if prefix:
        q = q.where(_identities.c.key.startswith(prefix, autoescape=True))
    return {int(r.user_id): r.key for r in await conn.execute(q)}


async def page(conn: AsyncConnection, *, sort: str, offset: int, limit: int) -> list[UserRow]:
    """A page of all users: richest first (`kudos`), or oldest first (`age`); ties by id, so pages never overlap."""
    order = (_users.c.created_at.asc(),) if sort == "age" else (_users.c.kudos.desc(),)
    rows = (await conn.execute(select(*_COLUMNS).order_by(*order, _users.c.id).offset(offset).limit(limit))).all()
    return [_row(r) for r in rows]


async def set_fields(conn: AsyncConnection, user_id: int, **values: object) -> None:
    await conn.execute(update(_users).where(_users.c.id == user_id).values(**values))
