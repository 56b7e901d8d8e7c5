"""Datasets: images from outside brought into the rating pool (`main.py dataset import`), and the rated pool
written out (`main.py dataset export`). The CLI reads and writes the files; this module owns the rows.

Imported images are stored as lossless WebP (every pixel kept; the store and its download route hold one
format), keyed by the sha256 of the file, so importing the same file into the same dataset again only
refreshes its labels. The horde's own shared images form the dataset named after the horde
(`core.horde_name`), which an import may not use.

An export counts trusted raters only (an untrusted rater's ratings, and an unproven one's, are left out),
names raters by a stable pseudonym (an HMAC of their id under the horde's secret), leaves out images no
trusted rater rated, and never includes gold images: they are the spam check's answer key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.exc import IntegrityError

from horde_core.models import ANONYMOUS_USER_ID
from horde_core.ratings import pool
from horde_core.ratings.labels import LabelError, Labels, check_dataset_name, mean, split_prompt
from horde_core.storage.images import NotAnImage, to_webp

from .base import ServiceBase
from .errors import BadRequest

EXPORT_BATCH = 200


class DatasetMixin(ServiceBase):
    def check_dataset(self, name: str) -> str:
        """A name an import may use (raises BadRequest with what to change)."""
        try:
            check_dataset_name(name)
        except LabelError as exc:
            raise BadRequest(str(exc), rc="InvalidDataset") from None
        if name == self.config.core.horde_name:
            raise BadRequest(f"The dataset {name!r} holds the horde's own shared images; import into another.",
                             rc="InvalidDataset")
        return name

    async def import_image(self, dataset: str, raw: bytes, labels: Labels | None = None, *, gold: bool = False,
                           nsfw: bool = False, source_name: str = "") -> tuple[str, str]:
        """Add one image to the pool: returns its id and "added", "relabelled" or "unchanged". With `gold`, an
        image with a known rating becomes a hidden gold image; other known ratings are kept as labels. `nsfw`
        images are shown on Discord only where NSFW is allowed."""
        self.check_dataset(dataset)
        labels = labels or Labels()
        values = {"caption": labels.caption, "known_rating": labels.rating, "known_artifacts": labels.artifacts,
                  "gold": gold and labels.rating is not None, "nsfw": nsfw}
        digest = hashlib.sha256(raw).hexdigest()
        async with self.db.read() as conn:
            found = await pool.dataset_image_by_hash(conn, dataset, digest)
        if found is not None:
            return found.id, await self._relabel(found, values)
        try:
            webp, width, height = await asyncio.to_thread(to_webp, raw, lossless=True)
        except NotAnImage as exc:
            raise BadRequest(f"not an image: {exc}", rc="NotAnImage") from None
        image_id = str(uuid.uuid4())
        key = f"ds/{image_id}.webp"
        await self.store.put(key, webp)
        try:
            async with self.db.transaction() as conn:
                await pool.add_dataset_image(conn, {
                    "id": image_id, "dataset": dataset, "content_hash": digest, "image_key": key,
                    "source_name": source_name[:255], "width": width, "height": height,
                    "created_at": self.clock.now(), **values})
        except IntegrityError:  # the same file, imported at the same moment by another process
            await self.store.delete(key)
            async with self.db.read() as conn:
                found = await pool.dataset_image_by_hash(conn, dataset, digest)
            return found.id, "unchanged"
        return image_id, "added"

    async def _relabel(self, found: Any, values: dict[str, Any]) -> str:
        if all(getattr(found, k) == v for k, v in values.items()):
            return "unchanged"
        async with self.db.transaction() as conn:
            await pool.relabel_dataset_image(conn, found.id, values)
        return "relabelled"

    async def export_dataset(self, dataset: str | None = None) -> AsyncIterator[tuple[dict[str, Any], bytes | None]]:
        """Every rated image of the pool (or of one dataset) with its metadata, its trusted ratings and their
        aggregates, and its bytes (None if the store lost them). One read snapshot for the whole export."""
        horde = self.config.core.horde_name
        async with self.db.read() as conn:
            ids = await pool.rated_image_ids(conn)
            for start in range(0, len(ids), EXPORT_BATCH):
                chunk = ids[start:start + EXPORT_BATCH]
                rows: list[tuple[dict[str, Any], str]] = []
                if dataset in (None, horde):
                    rows += [(self._generated(r, horde), r.image_key) for r in await pool.generated_rows(conn, chunk)]
                if dataset != horde:
                    rows += [(_imported(r), r.image_key) for r in await pool.imported_rows(conn, chunk, dataset)]
                by_image: dict[str, list[Any]] = defaultdict(list)
                for r in await pool.trusted_ratings_of(conn, [meta["id"] for meta, _ in rows]):
                    by_image[r.image_id].append(r)
                for meta, key in sorted(rows, key=lambda x: x[0]["id"]):
                    yield {**meta, **self._ratings_of(by_image[meta["id"]])}, await self.store.get(key)

    def _generated(self, r: Any, horde: str) -> dict[str, Any]:
        params = json.loads(r.params or "{}")
        prompt, negative = split_prompt(r.prompt)
        return {"id": r.id, "kind": "generated", "dataset": horde, "file": f"images/{r.id}.webp",
                "width": params.get("width"), "height": params.get("height"), "prompt": prompt,
                "negative_prompt": negative, "params": params, "model": r.model, "seed": r.seed,
                "censored": bool(r.censored), "nsfw": bool(r.nsfw),
                "requester": "anonymous" if int(r.requester_id) == ANONYMOUS_USER_ID else "registered",
                "client_agent": r.client_agent, "created_at": r.created_at, "finished_at": r.finished_at}

    def _ratings_of(self, rows: list[Any]) -> dict[str, Any]:
        scores = [int(r.rating) for r in rows if r.rating is not None]
        artifacts = [int(r.artifacts) for r in rows if r.artifacts is not None]
        return {"rating_mean": mean(scores), "rating_count": len(scores), "artifacts_mean": mean(artifacts),
                "artifacts_count": len(artifacts), "best_count": sum(1 for r in rows if r.best),
                "raters": len({r.rater_id for r in rows}),
                "ratings": [{"rater": self.signer.pseudonym("rater", r.rater_id), "rating": r.rating,
                             "artifacts": r.artifacts, "best": bool(r.best), "source": r.source,
                             "client_agent": r.client_agent, "context": json.loads(r.context or "{}"), "at": r.at}
                            for r in rows]}


def _imported(r: Any) -> dict[str, Any]:
    return {"id": r.id, "kind": "imported", "dataset": r.dataset, "file": f"images/{r.id}.webp", "width": r.width,
            "height": r.height, "caption": r.caption, "source_name": r.source_name, "known_rating": r.known_rating,
            "known_artifacts": r.known_artifacts, "nsfw": bool(r.nsfw), "created_at": r.created_at}


__all__ = ["DatasetMixin"]
