"""Shared keys (AI Horde's /v2/sharedkeys): a user lends part of their kudos to whoever holds a key.

A request made with a shared key as `apikey` acts as the key's owner and is paid from the owner's balance (the
ordinary hold), within the key's allowance, expiry and per-job caps. The allowance is spent in the same
transaction as the hold, by a conditional update (ledger/allowances.py), so simultaneous requests can never
overspend it; refunded jobs give their kudos back to the key. Only generation requests accept a shared key
(image, text, interrogation): everywhere else it is an unknown API key, as in AI Horde, so a key holder cannot
pop jobs, transfer kudos, manage keys or change the owner's account.

Only a digest of each key is stored, so the horde cannot list an owner's keys: the key is shown once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from horde_core.db import xact_lock
from horde_core.users import sharedkeys as keys_repo
from horde_core.users.keys import hash_key, new_shared_key
from horde_core.users.repo import UserRow
from horde_core.users.sharedkeys import SharedKeyRow

from .base import ServiceBase
from .errors import BadRequest, Forbidden, InvalidAPIKey
from .sharing_rules import UNKNOWN_KEY, shared_key_digest
from .sharing_specs import SharedKeyModifySpec, SharedKeySpec

DAY = 86400
MAX_KEYS, MAX_KEYS_TRUSTED = 3, 10  # AI Horde's limits per user


@dataclass(frozen=True, slots=True)
class SharedKeyInfo:
    """AI Horde's SharedKeyDetails; `id` is the key itself (whoever asks by id already holds it)."""

    id: str
    username: str
    name: str | None
    kudos: int
    expiry: float | None
    utilized: int
    max_image_pixels: int
    max_image_steps: int
    max_text_tokens: int


def _info(key: str, row: SharedKeyRow) -> SharedKeyInfo:
    return SharedKeyInfo(key, row.owner_name, row.name, row.kudos, row.expires_at, row.utilized,
                         row.max_image_pixels, row.max_image_steps, row.max_text_tokens)


class SharedKeysMixin(ServiceBase):
    async def create_shared_key(self, user: UserRow, spec: SharedKeySpec) -> SharedKeyInfo:
        if user.anonymous:
            raise Forbidden("Anonymous users cannot create shared keys.", rc="AnonForbidden")
        limit = MAX_KEYS_TRUSTED if user.trusted else MAX_KEYS
        key = new_shared_key()
        now = self.clock.now()
        expires = now + spec.expiry * DAY if spec.expiry > 0 else None
        async with self.db.transaction() as conn:
            await xact_lock(conn, self.db.dialect, f"sharedkeys:{user.id}")  # two creates cannot both count 2
            if await keys_repo.count_of_owner(conn, user.id) >= limit:
                raise Forbidden(f"You cannot have more than {limit} shared keys.")
            row = await keys_repo.create(conn, hash_key(key), user.id, now, name=spec.name, kudos=spec.kudos,
                                         expires_at=expires, max_image_pixels=spec.max_image_pixels,
                                         max_image_steps=spec.max_image_steps,
                                         max_text_tokens=spec.max_text_tokens)
        return _info(key, row)

    async def shared_key(self, key: str) -> SharedKeyInfo:
        """Anyone holding a key may read it (AI Horde: no API key needed)."""
        async with self.db.read() as conn:
            row = await keys_repo.by_hash(conn, shared_key_digest(key))
        if row is None:
            raise InvalidAPIKey(UNKNOWN_KEY)
        return _info(key, row)

    async def _owned_key(self, conn: Any, user: UserRow, key: str) -> SharedKeyRow:
        row = await keys_repo.by_hash(conn, shared_key_digest(key))
        if row is None:
            raise InvalidAPIKey(UNKNOWN_KEY)
        if row.owner_id != user.id:
            raise Forbidden(f"This shared key belongs to {row.owner_name} and not to {user.display_name}.")
        return row

    async def modify_shared_key(self, user: UserRow, key: str, spec: SharedKeyModifySpec) -> SharedKeyInfo:
        values = spec.model_dump(exclude_none=True)
        if not values:
            raise BadRequest("No shared key modification selected!", rc="NoSharedKeyModSelected")
        if "expiry" in values:
            days = values.pop("expiry")
            values["expires_at"] = None if days == -1 else self.clock.now() + days * DAY
        async with self.db.transaction() as conn:
            row = await self._owned_key(conn, user, key)
            await keys_repo.set_fields(conn, row.key_hash, **values)
            row = await keys_repo.by_hash(conn, row.key_hash)
        assert row is not None
        self.auth_cache.user_changed(user.id)  # every node forgets the key's cached grant (caps, expiry)
        return _info(key, row)

    async def delete_shared_key(self, user: UserRow, key: str) -> None:
        async with self.db.transaction() as conn:
            row = await self._owned_key(conn, user, key)
            await keys_repo.remove(conn, row.key_hash)
        self.auth_cache.user_changed(user.id)
