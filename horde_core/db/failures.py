"""Recognising a disk that is full or read-only, wherever the error surfaced (the image store, SQLite,
PostgreSQL), so callers can answer 503 and say so instead of a 500 or a traceback."""

from __future__ import annotations

import errno

_ERRNOS = {errno.ENOSPC: "no space left on the disk", errno.EDQUOT: "the disk quota is used up",
           errno.EROFS: "the file system is read-only", errno.EFBIG: "a file grew past its size limit",
           errno.EACCES: "permission denied", errno.EPERM: "permission denied"}
_MESSAGES = {"database or disk is full": "the database's disk is full",
             "attempt to write a readonly database": "the database is read-only",
             "disk i/o error": "the database's disk failed a write (full or read-only)",
             "unable to open database file": "the database file cannot be opened",
             "could not extend file": "PostgreSQL's disk is full",
             "no space left on device": "no space left on the disk"}


def storage_failure(exc: BaseException) -> str | None:
    """A short reason when `exc` (or what caused it) means storage cannot be written; else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _ERRNOS:
            where = f" ({current.filename})" if current.filename else ""
            return _ERRNOS[current.errno] + where
        text = str(current).lower()
        for needle, reason in _MESSAGES.items():
            if needle in text:
                return reason
        if type(current).__name__ == "DiskFullError":  # asyncpg, SQLSTATE 53100
            return "PostgreSQL's disk is full"
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None
