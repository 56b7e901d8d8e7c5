"""Images as files under a directory: the single-node default (the API serves them through signed URLs).
Keys are our own (`<kind>/<uuid>.<ext>`, or `<kind>/<uuid>.<claim>.<ext>` for a claim's upload), never a caller's."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from horde_core.storage.store import check_key


class LocalImageStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        await asyncio.to_thread(_write_atomic, path, data)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def exists(self, key: str) -> bool:
        return self._path(key).exists()

    async def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    async def delete_many(self, keys: Iterable[str]) -> None:
        paths = [self._path(k) for k in keys]
        await asyncio.to_thread(_unlink_all, paths)

    def presigned_get(self, key: str, expires_in: int) -> str | None:
        return None

    def presigned_put(self, key: str, expires_in: int) -> str | None:
        return None

    async def close(self) -> None:
        return None


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside the target under a name of this write's own, then rename: concurrent writers of one key
    never share a temporary file, and a reader sees the old bytes or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
