"""Read views of the web pages (issue 15): the status board, workers and models, the leaderboard, the gallery,
and the facts /metrics adds to them. Views that every visitor sees come from `self.snapshots`, rebuilt at most
every `web.status_ttl` seconds, so a busy status page costs a few queries per TTL, not per visit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from horde_core.models import Job, LedgerEntry, Penalty, Rating, Request, Strike, User, Worker
from horde_core.queue import minutes
from horde_core.queue.states import DONE

from .dto import WorkerInfo
from .stats_minutes import KINDS, MinutesMixin
from .web_dto import LABELS, UNITS, GalleryImage, KindBoard, Leaderboard, MetricsFacts, StatusBoard

PACE_MINUTES = 10  # throughput is averaged over this many complete minutes
SLOW_TTL = 60.0  # leaderboard and ratings statistics
_J, _R, _U, _W = Job.__table__.c, Request.__table__.c, User.__table__.c, Worker.__table__.c
_L, _RT, _S, _P = LedgerEntry.__table__.c, Rating.__table__.c, Strike.__table__.c, Penalty.__table__.c


class WebViewsMixin(MinutesMixin):
    async def status_board(self) -> StatusBoard:
        return await self.snapshots.get("status", self.config.web.status_ttl, self._build_board)

    async def _build_board(self) -> StatusBoard:
        series = await self.minute_series()
        async with self.db.read() as conn:
            depth = await minutes.queue_depth(conn)
        boards = []
        for kind in KINDS:
            workers = await self.online_workers(kind)
            # The last PACE_MINUTES complete minutes and the current one, as far as it has gone.
            span = min(PACE_MINUTES, len(series[kind].finished) - 1) + (self.clock.now() % 60) / 60
            done, units = series[kind].finished[-PACE_MINUTES - 1:], series[kind].units[-PACE_MINUTES - 1:]
            jobs_pm, units_pm = sum(done) / max(span, 1.0), sum(units) / max(span, 1.0)
            queued_jobs, queued_units = depth[kind]
            eta = 0 if queued_jobs == 0 else (int(queued_jobs / jobs_pm * 60) if jobs_pm > 0 else None)
            boards.append(KindBoard(kind, LABELS[kind], UNITS[kind], len(workers), sum(w.threads for w in workers),
                                    queued_jobs, queued_units, round(jobs_pm, 1), round(units_pm, 1), eta))
        models = [*await self.models_status("image"), *await self.models_status("text")]
        return StatusBoard(name=self.config.core.horde_name, built_at=self.clock.now(),
                           news=self.news(), kinds=boards, models=models, series=series,
                           queued_per_model={(m.kind, m.name): m.jobs for m in models})

    async def workers_table(self) -> list[WorkerInfo]:
        """Every worker (online or not), for the workers page."""
        return await self.snapshots.get("workers", self.config.web.status_ttl, self.list_workers)

    async def leaderboard(self, limit: int = 25) -> Leaderboard:
        async def build() -> Leaderboard:
            async with self.db.read() as conn:
                kudos = (await conn.execute(select(_U.id, _U.username, _U.kudos).where(_U.id != 0)
                                            .order_by(_U.kudos.desc(), _U.id).limit(limit))).all()
                images = (await conn.execute(
                    select(_U.id, _U.username, func.sum(_W.requests_fulfilled).label("n"))
                    .join(Worker.__table__, _W.owner_id == _U.id).where(_W.kind == "image")
                    .group_by(_U.id, _U.username).order_by(func.sum(_W.requests_fulfilled).desc(), _U.id)
                    .limit(limit))).all()
                ratings = (await conn.execute(
                    select(_U.id, _U.username, func.count().label("n"))
                    .join(Rating.__table__, _RT.rater_id == _U.id).where(_RT.rating.is_not(None))
                    .group_by(_U.id, _U.username).order_by(func.count().desc(), _U.id).limit(limit))).all()
            return Leaderboard(kudos=[(f"{r.username}#{r.id}", int(r.kudos)) for r in kudos],
                               images=[(f"{r.username}#{r.id}", int(r.n or 0)) for r in images if r.n],
                               ratings=[(f"{r.username}#{r.id}", int(r.n)) for r in ratings])

        return await self.snapshots.get("leaderboard", SLOW_TTL, build)

    async def ratings_summary(self) -> dict[str, Any]:
        return await self.snapshots.get("ratings", SLOW_TTL, self.rating_stats)

    async def gallery(self) -> list[GalleryImage]:
        """Recent shared images that are neither NSFW nor censored (empty unless web.gallery is on)."""
        if not self.config.web.gallery:
            return []

        async def build() -> list[GalleryImage]:
            async with self.db.read() as conn:
                rows = (await conn.execute(
                    select(_J.id, _J.image_key, _J.model, _J.finished_at, _R.prompt)
                    .select_from(Job.__table__.join(Request.__table__, _R.id == _J.request_id))
                    .where(_J.kind == "image", _J.state == DONE, _J.censored.is_(False), _J.gen_state == "ok",
                           _J.pruned.is_(False), _J.image_key != "", _R.shared.is_(True), _R.nsfw.is_(False))
                    .order_by(_J.finished_at.desc()).limit(self.config.web.gallery_size))).all()
            return [GalleryImage(r.id, self.download_url(r.image_key), r.prompt.split("###")[0].strip(), r.model,
                                 float(r.finished_at or 0)) for r in rows]

        return await self.snapshots.get("gallery", self.config.web.status_ttl, build)

    async def metrics_facts(self) -> MetricsFacts:
        """Kudos minted and burned (summed incrementally from the ledger), strikes and sanctions in force."""
        async def build() -> MetricsFacts:
            prev: MetricsFacts | None = self.snapshots.peek("metrics")
            since = prev.ledger_id if prev else 0
            async with self.db.read() as conn:
                last = int(await conn.scalar(select(func.coalesce(func.max(_L.id), 0))) or 0)
                newer = (_L.id > since, _L.id <= last)
                minted = int(await conn.scalar(select(func.coalesce(func.sum(_L.amount), 0))
                                               .where(_L.debit == "mint", *newer)) or 0)
                burned = int(await conn.scalar(select(func.coalesce(func.sum(_L.amount), 0))
                                               .where(_L.credit == "burn", *newer)) or 0)
                strikes = {r: int(n) for r, n in (await conn.execute(
                    select(_S.reason, func.count()).group_by(_S.reason))).all()}
                sanctions = {s: int(n) for s, n in (await conn.execute(
                    select(_P.state, func.count()).where(_P.until > self.clock.now()).group_by(_P.state))).all()}
            return MetricsFacts(ledger_id=last, kudos_minted=(prev.kudos_minted if prev else 0) + minted,
                                kudos_burned=(prev.kudos_burned if prev else 0) + burned, strikes=strikes,
                                sanctions=sanctions)

        return await self.snapshots.get("metrics", self.config.web.status_ttl, build)
