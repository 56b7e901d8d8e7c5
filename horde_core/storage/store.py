"""The interface every image store implements (local disk now, S3-compatible later)."""

from __future__ import annotations

from typing import Protocol


class ImageStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None: ...
