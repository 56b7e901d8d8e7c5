"""The minute counters behind the charts: written by the sweep, read by the status page.

Each sweep recounts the minutes since the last one it wrote (at least the previous and the current minute, so a
submit that committed late is still counted) from the jobs table and writes absolute values, then samples the
queue and the online workers into the current minute. Any node may do it: they write the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from horde_core.queue import minutes

from .horde_status import StatusMixin

KINDS = minutes.KINDS


@dataclass(frozen=True, slots=True)
class MinuteSeries:
    """Dense per-minute series of one kind, oldest first, ending with the current (partial) minute."""

    kind: str
    first_minute: int
    finished: list[int]
    units: list[int]
    queued: list[int]
    workers: list[int]


class MinutesMixin(StatusMixin):
    async def record_minutes(self, aborted: dict[str, int] | None = None) -> int:
        """Recount recent minutes and sample the queue; returns the rows written."""
        now = self.clock.now()
        current = int(now // 60)
        backfill = self.config.web.chart_hours * 60
        online = {kind: len(await self.online_workers(kind)) for kind in KINDS}
        written = 0
        async with self.db.transaction() as conn:
            last = await minutes.last_minute(conn)
            first = current - backfill if last is None else max(min(last, current) - 1, current - backfill)
            counted = await minutes.finished_per_minute(conn, self.db.dialect, first, current)
            for (minute, kind), cell in sorted(counted.items()):
                if minute != current:
                    await minutes.write(conn, minute, kind, **cell)
                    written += 1
            depth = await minutes.queue_depth(conn)
            for kind in KINDS:
                cell = counted.get((current, kind), {"finished": 0, "faulted": 0, "units": 0})
                jobs, units = depth[kind]
                await minutes.write(conn, current, kind, add={"aborted": (aborted or {}).get(kind, 0)},
                                    queued_jobs=jobs, queued_units=units, workers=online[kind], **cell)
                written += 1
            await minutes.prune(conn, current - self.config.web.stats_retention_days * 1440)
        return written

    async def minute_series(self, hours: int | None = None) -> dict[str, MinuteSeries]:
        """The last `hours` (default: web.chart_hours) of every kind, a value for every minute."""
        span = (hours or self.config.web.chart_hours) * 60
        current = int(self.clock.now() // 60)
        first = current - span + 1
        async with self.db.read() as conn:
            rows = await minutes.series(conn, first, current)
        out = {kind: MinuteSeries(kind, first, [0] * span, [0] * span, [0] * span, [0] * span) for kind in KINDS}
        for r in rows:
            series = out.get(r.kind)
            if series is None:
                continue
            i = int(r.minute) - first
            series.finished[i], series.units[i] = int(r.finished), int(r.units)
            series.queued[i], series.workers[i] = int(r.queued_jobs), int(r.workers)
        return out
