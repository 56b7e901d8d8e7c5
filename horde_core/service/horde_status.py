"""Read-only views of the horde: workers, models, performance and statistics (cached briefly)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from horde_core.models import Job
from horde_core.queue.matching import WorkerProfile
from horde_core.queue.states import SQL_PROCESSING, SQL_WAITING
from horde_core.workers import repo as workers_repo
from horde_core.workers.repo import WorkerRow

from .base import ServiceBase
from .dto import ModelStatus, WorkerInfo
from .errors import NotFound

PERIODS = {"minute": 60, "hour": 3600, "day": 86400, "month": 30 * 86400}
_J = Job.__table__.c


def _info(w: WorkerRow, online_since: float) -> WorkerInfo:
    per_hour = w.units_generated / max(1.0, w.uptime_seconds / 3600) if w.uptime_seconds else 0.0
    unit = "megapixelsteps" if w.kind == "image" else ("tokens" if w.kind == "text" else "forms")
    return WorkerInfo(
        id=w.id, name=w.name, kind=w.kind, online=w.last_check_in >= online_since,
        requests_fulfilled=w.requests_fulfilled, kudos_generated=w.kudos_generated,
        kudos_uptime=w.kudos_uptime, performance=f"{per_hour / 3600:.1f} {unit} per second",
        threads=w.threads, uptime=w.uptime_seconds, maintenance_mode=w.maintenance, info=w.info, nsfw=w.nsfw,
        owner=w.owner_name, trusted=w.owner_trusted, uncompleted_jobs=w.uncompleted_jobs, models=w.models,
        bridge_agent=w.bridge_agent, max_pixels=w.max_pixels, units_generated=w.units_generated,
        img2img=w.img2img, painting=w.painting, post_processing=w.post_processing, lora=w.lora,
        max_length=w.max_length, max_context_length=w.max_context_length, flagged=w.flagged,
        team_id=w.team_id, team_name=w.team_name)


class StatusMixin(ServiceBase):
    def _online_since(self) -> float:
        return self.clock.now() - self.config.core.worker_online_window

    async def online_workers(self, kind: str) -> list[WorkerRow]:
        """Workers of a kind seen recently and not in maintenance (re-read every few seconds, or on a change)."""

        async def load(kind: str) -> list[WorkerRow]:
            async with self.db.read() as conn:
                rows = await workers_repo.listing(conn, kind=kind, online_since=self._online_since())
            return [w for w in rows if not w.maintenance and not w.flagged and not w.paused]

        return await self.online.get(kind, load)

    async def online_profiles(self, kind: str) -> list[WorkerProfile]:
        return [WorkerProfile(id=w.id, owner_id=w.owner_id, kind=w.kind, models=frozenset(w.models),
                              trusted=w.owner_trusted, nsfw=w.nsfw, max_pixels=w.max_pixels, img2img=w.img2img,
                              painting=w.painting, post_processing=w.post_processing, lora=w.lora,
                              max_length=w.max_length, max_context_length=w.max_context_length,
                              softprompts=tuple(w.softprompts))
                for w in await self.online_workers(kind)]

    async def worker_brief(self, worker_id: str | None) -> tuple[str, str]:
        """(id, name) of a worker, for generation records."""
        if not worker_id:
            return "", ""
        cached = self.workers.by_id(worker_id)
        if cached is not None:
            return worker_id, cached.row.name
        async with self.db.read() as conn:
            row = await workers_repo.by_id(conn, worker_id)
        return worker_id, row.name if row else ""

    async def list_workers(self, kind: str | None = None) -> list[WorkerInfo]:
        since = self._online_since()
        async with self.db.read() as conn:
            rows = await workers_repo.listing(conn, kind=kind or None)
        return [_info(w, since) for w in rows]

    async def get_worker(self, worker_id: str | None = None, *, name: str | None = None) -> WorkerInfo:
        async with self.db.read() as conn:
            row = await (workers_repo.by_name(conn, name) if name is not None
                         else workers_repo.by_id(conn, worker_id or ""))
        if row is None:
            raise NotFound(f"Worker {name or worker_id} not found.", rc="WorkerNotFound")
        return _info(row, self._online_since())

    async def models_status(self, kind: str = "image", model_state: str = "all") -> list[ModelStatus]:
        """Models served right now: workers, queue and an ETA per model."""
        workers = await self.online_workers(kind)
        counts: dict[str, int] = {}
        for w in workers:
            for m in w.models:
                counts[m] = counts.get(m, 0) + w.threads
        async with self.db.read() as conn:
            speeds = await workers_repo.model_speeds(conn)
            from horde_core.models import Request

            R = Request.__table__.c
            rows = (await conn.execute(
                select(R.models, func.count(), func.coalesce(func.sum(R.steps * R.pixels), 0))
                .select_from(Job.__table__.join(Request.__table__, R.id == _J.request_id))
                .where(_J.state == SQL_WAITING, _J.kind == kind).group_by(R.models))).all()
        queued: dict[str, tuple[int, float]] = {}
        for packed, jobs, work in rows:
            names = [m for m in packed.split("|") if m] or list(counts)[:1]
            for m in names:
                j, w = queued.get(m, (0, 0.0))
                queued[m] = (j + int(jobs), w + float(work) / len(names))
        result = []
        for name in sorted(set(counts) | set(queued)):
            if model_state == "known" and not self.reference.is_known(name):
                continue
            if model_state == "custom" and self.reference.is_known(name):
                continue
            jobs, work = queued.get(name, (0, 0.0))
            count = counts.get(name, 0)
            per_job = speeds.get(name) or 10.0
            eta = int(jobs * per_job / count) if count else (10_000 if jobs else 0)
            perf = round(1_000_000 / per_job / 1_000_000, 3) if per_job else 0.0
            result.append(ModelStatus(name=name, kind=kind, count=count, performance=perf,
                                      queued=int(work / 1_000_000) if kind == "image" else jobs,
                                      jobs=jobs, eta=eta))
        return result

    async def performance(self) -> dict[str, Any]:
        async with self.db.read() as conn:
            rows = (await conn.execute(select(_J.kind, _J.state, func.count())
                                       .where(_J.state.in_([SQL_WAITING, SQL_PROCESSING]))
                                       .group_by(_J.kind, _J.state))).all()
            past = int(await conn.scalar(select(func.coalesce(func.sum(_J.units), 0))
                                         .where(_J.finished_at >= self.clock.now() - 60, _J.kind == "image",
                                                _J.state == "done")) or 0)
        waiting = {(k, s): int(n) for k, s, n in rows}
        images = await self.online_workers("image")
        texts = await self.online_workers("text")
        alchemists = await self.online_workers("interrogation")
        return {
            "queued_requests": waiting.get(("image", "waiting"), 0),
            "queued_text_requests": waiting.get(("text", "waiting"), 0),
            "worker_count": len(images), "thread_count": sum(w.threads for w in images),
            "text_worker_count": len(texts), "text_thread_count": sum(w.threads for w in texts),
            "interrogator_count": len(alchemists),
            "interrogator_thread_count": sum(w.threads for w in alchemists),
            "queued_megapixelsteps": 0.0, "past_minute_megapixelsteps": float(past),
            "queued_forms": float(waiting.get(("interrogation", "waiting"), 0)),
            "queued_tokens": 0.0, "past_minute_tokens": 0.0,
        }

    async def model_stats(self, kind: str = "image", model_state: str = "all") -> dict[str, dict[str, int]]:
        """Finished jobs per model over the last day, month and all time."""
        now = self.clock.now()
        out: dict[str, dict[str, int]] = {}
        async with self.db.read() as conn:
            for period, since in (("day", now - 86400), ("month", now - 30 * 86400), ("total", None)):
                q = select(_J.model, func.count()).where(_J.kind == kind, _J.state == "done").group_by(_J.model)
                if since is not None:
                    q = q.where(_J.finished_at >= since)
                counts = {m: int(n) for m, n in (await conn.execute(q)).all() if m}
                if model_state == "known":
                    counts = {m: n for m, n in counts.items() if self.reference.is_known(m)}
                elif model_state == "custom":
                    counts = {m: n for m, n in counts.items() if not self.reference.is_known(m)}
                out[period] = counts
        return out

    async def totals(self, kind: str = "image") -> dict[str, dict[str, int]]:
        """Jobs and units (megapixelsteps or tokens) finished per minute, hour, day, month and total."""
        now = self.clock.now()
        out: dict[str, dict[str, int]] = {}
        async with self.db.read() as conn:
            for period, seconds in (*PERIODS.items(), ("total", None)):
                q = select(func.count(), func.coalesce(func.sum(_J.units), 0)).where(
                    _J.kind == kind, _J.state == "done")
                if seconds is not None:
                    q = q.where(_J.finished_at >= now - seconds)
                n, units = (await conn.execute(q)).one()
                out[period] = {"jobs": int(n), "units": int(units)}
        return out
