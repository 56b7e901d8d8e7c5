"""API keys: 22 random URL-safe characters, of which only a SHA-256 digest is stored.

A fast hash is right here: keys are 128 random bits, not passwords, so there is nothing
to brute-force, and every authenticated call must stay cheap.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

ANONYMOUS_KEY = "0000000000"
KEY_LENGTH = 22


def new_api_key() -> str:
    key = secrets.token_urlsafe(16)
    assert len(key) == KEY_LENGTH
    return key


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_shared_key() -> str:
    """A shared key is a UUID, as in AI Horde (clients show and validate it in that form)."""
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class SharedKeyGrant:
    """What a request made with a shared key may do, carried on the owner's UserRow (see service/sharing.py).

    The remaining kudos are not here: they change with every request and are checked in the database."""

    key_hash: str
    name: str | None
    expires_at: float | None
    max_image_pixels: int
    max_image_steps: int
    max_text_tokens: int
