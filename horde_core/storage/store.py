"""The interface every image store implements: local disk (one node) or an S3-compatible bucket (several).

Keys are the core's own (`<kind>/<uuid>.<ext>`, or `<kind>/<uuid>.<claim>.<ext>` for a claim's upload), never a
caller's. A store that can hand out presigned URLs
(S3) lets workers upload and clients download straight from it; one that cannot (local disk) answers None and
the API serves those bytes through its own signed routes instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

KEY = re.compile(r"^[a-z]+/[0-9a-f-]{36}(\.[0-9a-f]{32})?\.[a-z]+$")


def check_key(key: str) -> str:
    """Refuse anything that is not one of our keys (no path tricks reach the disk or the bucket)."""
    if not KEY.match(key):
        raise ValueError(f"bad image key {key!r}")
    return key


class ImageStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int | None:
        """Bytes stored under `key`, or None when nothing is."""
        ...

    async def delete(self, key: str) -> None: ...

    async def delete_many(self, keys: Iterable[str]) -> None: ...

    def presigned_get(self, key: str, expires_in: int) -> str | None:
        """A URL anyone may GET the image from until it expires, or None to serve it through the API."""
        ...

    def presigned_put(self, key: str, expires_in: int) -> str | None:
        """A URL a worker may PUT the image to until it expires, or None to take it through the API."""
        ...

    async def close(self) -> None: ...
