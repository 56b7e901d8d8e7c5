"""A member's gallery: their own finished images, a page at a time, and the favourites they starred.

A starred image is kept past `core.image_retention` (the prune sweep skips it); unstarred images go as
usual, and their entries stay in the gallery with their prompt and settings, so they can be run again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from horde_core.queue import gallery

from .base import ServiceBase
from .errors import NotFound


@dataclass(frozen=True, slots=True)
class GalleryEntry:
    job_id: str
    request_id: str
    prompt: str
    model: str
    seed: str
    finished_at: float
    favourite: bool
    censored: bool
    has_image: bool  # False once pruned (never for favourites)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GalleryPage:
    index: int  # 0 is the newest
    total: int
    entry: GalleryEntry | None  # None when the member has no (favourite) results


class GalleryMixin(ServiceBase):
    async def gallery_page(self, user_id: int, index: int = 0, *, favourites_only: bool = False) -> GalleryPage:
        """One result of a member's, counted from the newest; an index past the end shows the last one."""
        async with self.db.read() as conn:
            total = await gallery.count_results(conn, user_id, favourites_only=favourites_only)
            index = max(0, min(index, total - 1))
            row = await gallery.result_at(conn, user_id, index, favourites_only=favourites_only) if total else None
        if row is None:
            return GalleryPage(0, total, None)
        prompt, _, _negative = (row.prompt or "").partition("###")
        entry = GalleryEntry(job_id=row.id, request_id=row.request_id, prompt=prompt, model=row.model or "",
                             seed=row.seed or "", finished_at=float(row.finished_at or 0.0),
                             favourite=bool(row.favourite), censored=bool(row.censored),
                             has_image=bool(row.image_key) and not row.pruned, params=json.loads(row.params or "{}"))
        return GalleryPage(index, total, entry)

    async def set_favourite(self, user_id: int, job_id: str, favourite: bool) -> None:
        """Star (or unstar) one of the member's own results; anyone else's is NotFound."""
        async with self.db.transaction() as conn:
            if not await gallery.owns_result(conn, user_id, job_id):
                raise NotFound("That result is not one of yours.", rc="ResultNotFound")
            await gallery.set_favourite(conn, user_id, job_id, favourite, self.clock.now())
