"""The rules of a shared key that need no database: its form, where it counts, its expiry and per-job caps."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

from horde_core.ledger import allowances
from horde_core.users import repo as users_repo
from horde_core.users import sharedkeys as keys_repo
from horde_core.users.keys import SharedKeyGrant, hash_key
from horde_core.users.repo import UserRow

from .errors import BadRequest, Forbidden, InvalidAPIKey

UNKNOWN_KEY = "No user matching sent Shared Key."


def shared_key_digest(key: str) -> str:
    """The stored digest of a shared key, however its UUID is written (upper case, braces: AI Horde parses it)."""
    try:
        return hash_key(str(uuid.UUID(key.strip())))
    except ValueError:
        return hash_key(key)


def looks_like_shared_key(key: str) -> bool:
    """Shared keys are UUIDs; API keys never are, so only these cost a second lookup."""
    if not 32 <= len(key) <= 45:  # 36 as written; 32 without dashes, braces or urn:uuid: around it
        return False
    try:
        uuid.UUID(key)
    except ValueError:
        return False
    return True


def expired(text: str = "This shared key has expired") -> Forbidden:
    return Forbidden(text, rc="SharedKeyExpired")


def check_shared_use(grant: SharedKeyGrant, allowed: bool, now: float) -> None:
    """Called by `authenticate` for a shared key: refused where it is not a generation request, or expired."""
    if not allowed:
        raise InvalidAPIKey("No user matching sent API Key. Shared keys only work for generation requests.")
    if grant.expires_at is not None and grant.expires_at <= now:
        raise expired()


def caps_refusal(grant: SharedKeyGrant, request: dict[str, Any]) -> str | None:
    """AI Horde's per-job limits of a key (-1: none); the refusal text, or None."""
    checks = [("pixels", request.get("pixels"), grant.max_image_pixels),
              ("steps", request.get("steps"), grant.max_image_steps)] if request["kind"] == "image" else []
    if request["kind"] == "text":
        checks.append(("tokens", request.get("max_length"), grant.max_text_tokens))
    for what, asked, cap in checks:
        if asked is not None and cap > -1 and int(asked) > cap:
            return f"This shared key is limited to {cap} {what} per job. You requested {asked} {what}."
    return None


async def holder(conn: Any, digest: str) -> UserRow | None:
    """The owner of a shared key, carrying the key's grant (for `authenticate`)."""
    row = await keys_repo.by_hash(conn, digest)
    owner = await users_repo.by_id(conn, row.owner_id) if row else None
    return dataclasses.replace(owner, shared_key=row.grant()) if row and owner else None


async def spend(conn: Any, user: UserRow, request: dict[str, Any], total: int) -> None:
    """Inside the request's transaction (service/generation.py `_enqueue`): the key's caps, then its allowance.
    A no-op for requests not made with a shared key."""
    grant = user.shared_key
    if grant is None:
        return
    refusal = caps_refusal(grant, request)
    if refusal:
        raise BadRequest(refusal, rc="BadRequest")
    now = request["created_at"]
    if await allowances.spend(conn, now, grant.key_hash, request["id"], total):
        return
    row = await keys_repo.by_hash(conn, grant.key_hash)
    if row is None:
        raise InvalidAPIKey(UNKNOWN_KEY)
    if row.expires_at is not None and row.expires_at <= now:
        raise expired()
    if row.kudos == 0:
        raise Forbidden("This shared key has run out of kudos.", rc="SharedKeyEmpty")
    raise Forbidden(f"This shared key does not have enough remaining kudos ({row.kudos}) to fulfill this "
                    f"request ({total}).", rc="SharedKeyInsufficientKudos")



@dataclass(frozen=True, slots=True)
class Lent:
    """A shared key named as the recipient of a kudos transfer: the kudos go to its owner (AI Horde)."""

    owner: UserRow
    key_hash: str


async def lent_to(db: Any, name: str, now: float) -> Lent | None:
    """The shared key `name` is, if it is one; an expired key refuses (403 SharedKeyExpired)."""
    if not looks_like_shared_key(name.strip()):
        return None
    async with db.read() as conn:
        found = await holder(conn, shared_key_digest(name))
    if found is None or found.shared_key is None:
        return None
    if found.shared_key.expires_at is not None and found.shared_key.expires_at <= now:
        raise expired()
    return Lent(dataclasses.replace(found, shared_key=None), found.shared_key.key_hash)


async def top_up(conn: Any, lent: Lent, amount: int) -> None:
    """In the transfer's transaction: the key's allowance grows by what was sent to it."""
    await allowances.top_up(conn, lent.key_hash, amount)
