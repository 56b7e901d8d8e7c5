"""API keys: 22 random URL-safe characters, of which only a SHA-256 digest is stored.

A fast hash is right here: keys are 128 random bits, not passwords, so there is nothing
to brute-force, and every authenticated call must stay cheap.
"""

from __future__ import annotations

import hashlib
import secrets

ANONYMOUS_KEY = "0000000000"
KEY_LENGTH = 22


def new_api_key() -> str:
    key = secrets.token_urlsafe(16)
    assert len(key) == KEY_LENGTH
    return key


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
