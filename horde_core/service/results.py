"""What the bot needs beyond the API: result bytes, a request's own settings, a member's usage."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from horde_core.models import Job
from horde_core.queue import lifecycle
from horde_core.queue.matching import unpack
from horde_core.queue.states import ABORTED
from horde_core.ratings import pool

from .base import ServiceBase
from .errors import RequestNotFound
from .generation import parse_request_id

_J = Job.__table__.c


class ResultsMixin(ServiceBase):
    async def image_bytes(self, job_id: str) -> bytes | None:
        """The stored result of an image job (None once pruned), or an imported image of the rating pool."""
        image_id = parse_request_id(job_id)
        async with self.db.read() as conn:
            job = await lifecycle.job_row(conn, image_id)
            imported = await pool.dataset_image(conn, image_id) if job is None else None
        if imported is not None:
            return await self.store.get(imported.image_key)
        if job is None or not job.image_key or job.pruned:
            return None
        return await self.store.get(job.image_key)

    async def request_outline(self, request_id: str) -> dict[str, Any]:
        """A request's own settings, kept after its images are pruned, so a result can be rerolled."""
        async with self.db.read() as conn:
            row = await lifecycle.request_row(conn, parse_request_id(request_id))
        if row is None:
            raise RequestNotFound(f"Request {request_id} not found.")
        return {"request_id": row.id, "kind": row.kind, "prompt": row.prompt, "params": json.loads(row.params or "{}"),
                "models": list(unpack(row.models)), "n": int(row.n), "nsfw": bool(row.nsfw),
                "censor_nsfw": bool(row.censor_nsfw), "shared": bool(row.shared), "user_id": int(row.user_id),
                "proxied_account": row.proxied_account, "img2img": bool(row.img2img),
                "cost": (int(row.job_cost) + int(row.job_tax)) * int(row.n)}  # what it held up front

    async def job_outline(self, job_id: str) -> tuple[dict[str, Any], bytes | None]:
        """The settings of the request a job belongs to, and the job's image (None once pruned). An imported
        image of the rating pool answers in the same shape: its caption as the prompt, no request, no owner."""
        image_id = parse_request_id(job_id)
        async with self.db.read() as conn:
            job = await lifecycle.job_row(conn, image_id)
            imported = await pool.dataset_image(conn, image_id) if job is None else None
        if imported is not None:
            return {"request_id": "", "kind": "image", "prompt": imported.caption,
                    "params": {"width": imported.width, "height": imported.height}, "models": [], "n": 1,
                    "nsfw": bool(imported.nsfw), "censor_nsfw": False, "shared": True, "user_id": None,
                    "proxied_account": "", "img2img": False, "dataset": imported.dataset}, \
                await self.store.get(imported.image_key)
        if job is None:
            raise RequestNotFound(f"Job {job_id} not found.")
        outline = await self.request_outline(job.request_id)
        # the image's own seed and model: what an exact re-run of this one image needs
        outline.update(job_id=job.id, job_seed=job.seed or "", job_model=job.model or "",
                       job_censored=bool(job.censored))
        return outline, await self.image_bytes(job.id)

    async def request_source(self, request_id: str) -> bytes | None:
        """The source image an img2img (or painting) request started from, None when it had none."""
        async with self.db.read() as conn:
            row = await lifecycle.request_row(conn, parse_request_id(request_id))
        if row is None:
            raise RequestNotFound(f"Request {request_id} not found.")
        return await self.store.get(row.source_image) if row.source_image else None

    async def form_image(self, request_id: str, form: str) -> bytes | None:
        """The image an alchemist made for one image form of an interrogation (an upscale, a face fix, a
        background removal); None until it is done, or once pruned."""
        async with self.db.read() as conn:
            jobs = await lifecycle.jobs_of(conn, parse_request_id(request_id))
        job = next((j for j in jobs if j.form == form and j.state == "done"), None)
        if job is None or not job.image_key or job.pruned:
            return None
        return await self.store.get(job.image_key)

    async def jobs_since(self, user_id: int, kind: str, since: float) -> int:
        """Jobs a user asked for since a moment (daily limits count these)."""
        from horde_core.models import Request

        R = Request.__table__.c
        async with self.db.read() as conn:
            return int(await conn.scalar(
                select(func.count()).select_from(Job.__table__.join(Request.__table__, R.id == _J.request_id))
                .where(_J.user_id == user_id, _J.kind == kind, R.created_at >= since,
                       _J.state != ABORTED)) or 0)  # a retried job counts once, under its new id
