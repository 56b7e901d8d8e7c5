"""What a member asks about the horde itself: its news and its status per kind of work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from horde_core.models import Job
from horde_core.queue.states import SQL_PROCESSING, SQL_WAITING

from .horde_status import StatusMixin

KINDS = ("image", "text", "interrogation")


@dataclass(frozen=True, slots=True)
class KindStatus:
    kind: str  # image | text | interrogation
    workers: int  # online, not in maintenance
    threads: int
    maintenance: int  # online workers their owners put in maintenance
    waiting: int  # jobs in the queue
    processing: int  # jobs being worked on
    done_last_hour: int
    eta: int  # seconds the queue needs at the last hour's pace (0: empty queue; -1: unknown, nothing done lately)


class InfoMixin(StatusMixin):
    def news(self) -> list[dict[str, Any]]:
        """The operator's news (`core.news`, newest first), or a welcome when there is none."""
        items = [{"date_published": n.date, "newspiece": n.text, "importance": n.importance, "title": n.title,
                  "tags": ["hordebot"], "more_info_urls": [n.url] if n.url else []}
                 for n in self.config.core.news]
        if items:
            return sorted(items, key=lambda i: i["date_published"], reverse=True)
        name = self.config.core.horde_name
        return [{"date_published": "2026-11-24", "newspiece": f"{name} runs an embedded horde core: attach a worker "
                 "with an API key from `python main.py user create NAME`.", "importance": "Information",
                 "title": f"Welcome to {name}", "tags": ["hordebot"], "more_info_urls": []}]

    async def kind_status(self) -> list[KindStatus]:
        """Workers, queue and recent throughput of each kind of work."""
        j = Job.__table__.c
        since = self.clock.now() - 3600
        async with self.db.read() as conn:
            queued = {(k, s): int(n) for k, s, n in (await conn.execute(
                select(j.kind, j.state, func.count()).where(j.state.in_([SQL_WAITING, SQL_PROCESSING]))
                .group_by(j.kind, j.state))).all()}
            done = {k: int(n) for k, n in (await conn.execute(
                select(j.kind, func.count()).where(j.state == "done", j.finished_at >= since)
                .group_by(j.kind))).all()}
        everyone = await self.list_workers()
        result = []
        for kind in KINDS:
            serving = await self.online_workers(kind)
            resting = sum(1 for w in everyone if w.kind == kind and w.maintenance_mode and w.online)
            waiting, processing = queued.get((kind, "waiting"), 0), queued.get((kind, "processing"), 0)
            per_hour = done.get(kind, 0)
            eta = 0
            if waiting or processing:
                eta = int((waiting + processing) * 3600 / per_hour) if per_hour else -1
            result.append(KindStatus(kind=kind, workers=len(serving), threads=sum(w.threads for w in serving),
                                     maintenance=resting, waiting=waiting, processing=processing,
                                     done_last_hour=per_hour, eta=eta))
        return result
