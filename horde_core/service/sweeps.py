"""Background housekeeping: TTL aborts, request expiry, image pruning and uptime kudos.

Each step is a set of conditional updates, so two nodes sweeping the same database at once would still do
every piece of work exactly once; on PostgreSQL a pass also runs under an advisory lock, so while one node
sweeps the others skip their pass instead of racing it (any number of sweepers may run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import update

from horde_core.deliveries import repo as deliveries
from horde_core.ledger import pricing, settlement
from horde_core.models import Worker
from horde_core.queue import lifecycle
from horde_core.queue.states import REQ_EXPIRED
from horde_core.safety import repo as safety_repo
from horde_core.workers import repo as workers_repo

from .stats_minutes import MinutesMixin
from .work import WorkMixin

log = logging.getLogger(__name__)
UPTIME_CHUNK = 600.0
SWEEP_LOCK = "sweeps"
_W = Worker.__table__


class SweepMixin(WorkMixin, MinutesMixin):
    async def sweep(self) -> dict[str, int]:
        """One pass of every sweep; returns how much each did (nothing when another node is sweeping)."""
        async with self.db.advisory_lock(SWEEP_LOCK) as mine:
            if not mine:
                return {}
            aborted = await self._abort_overdue()
            done = {"aborted": sum(aborted.values()), "expired": await self._expire(),
                    "pruned": await self._prune(), "uptime": await self._pay_uptime(),
                    "audit_pruned": await self._prune_audit(), "unscanned": await self.release_unscanned(),
                    "minutes": await self.record_minutes(aborted),
                    "undelivered_pruned": await self._prune_undelivered()}
            await self.limits.prune()
        if done["aborted"]:
            for kind in ("image", "text", "interrogation"):
                self.note_waiting(kind)
        return done

    async def _abort_overdue(self) -> dict[str, int]:
        """Requeue jobs their workers held past the TTL; how many of each kind."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            overdue = await lifecycle.overdue_jobs(conn, now)
            if not overdue:
                return {}
            requeued = await lifecycle.requeue(conn, [r.id for r in overdue], self.config.core.max_job_faults,
                                               max_form_attempts=self.config.core.max_form_attempts, now=now)
            for r in overdue:
                if r.worker_id:
                    await conn.execute(update(_W).where(_W.c.id == r.worker_id)
                                       .values(uncompleted_jobs=_W.c.uncompleted_jobs + 1))
            await self._settle_faults(conn, requeued, now)
        aborted: dict[str, int] = {}
        for r in overdue:
            aborted[r.kind] = aborted.get(r.kind, 0) + 1
            self.tally.count("aborted", r.kind)
        return aborted

    async def _expire(self) -> int:
        now = self.clock.now()
        expired = 0
        async with self.db.transaction() as conn:
            for rid in await lifecycle.expirable(conn, now, self.config.core.request_expiry):
                if await lifecycle.set_request_state(conn, rid, REQ_EXPIRED, now):
                    cancelled, costs = await lifecycle.cancel_waiting(conn, rid, now)
                    await settlement.refund_jobs(conn, now, rid, cancelled, costs, "expired")
                    expired += 1
        return expired

    async def _prune(self) -> int:
        now = self.clock.now()
        retention = self.config.core.image_retention
        async with self.db.read() as conn:
            images = await lifecycle.prunable_images(conn, now, retention)
            sources = await lifecycle.prunable_sources(conn, now, retention)
        # Wherever the store is (a shared bucket: every node's images), results, sources and masks.
        await self.store.delete_many([key for _, key in images] + [k for _, keys in sources for k in keys])
        async with self.db.transaction() as conn:
            await lifecycle.mark_pruned(conn, [jid for jid, _ in images], now, retention)
            await lifecycle.forget_sources(conn, [rid for rid, _ in sources])
            uploads = await lifecycle.prunable_uploads(conn, now, retention)  # claims that never published
        await self.store.delete_many(uploads)
        return len(images)

    async def _prune_audit(self) -> int:
        """The moderation log keeps blocked prompts only as long as configured."""
        before = self.clock.now() - self.config.safety.audit_retention_days * 86400
        async with self.db.transaction() as conn:
            return await safety_repo.prune_log(conn, before)

    async def _prune_undelivered(self) -> int:
        """Results no client could post are kept for their member this many days (their images too)."""
        before = self.clock.now() - self.config.core.undelivered_retention_days * 86400
        async with self.db.transaction() as conn:
            return await deliveries.prune_stranded(conn, before)

    async def _pay_uptime(self) -> int:
        """Uptime kudos for availability that serves the horde: only workers that finished a job within
        `core.uptime_job_window`, and per owner only the `core.uptime_workers_per_owner` most recently busy
        of them. Other online workers count uptime seconds but earn nothing (idle names mint no kudos)."""
        now = self.clock.now()
        core = self.config.core
        window = core.worker_online_window
        paid = 0
        async with self.db.transaction() as conn:
            online = [w for w in await workers_repo.listing(conn, online_since=now - window) if not w.maintenance]
            earning = _earning(online, now - core.uptime_job_window, core.uptime_workers_per_owner)
            for w in online:
                old = await conn.scalar(_W.select().with_only_columns(_W.c.uptime_paid_until)
                                        .where(_W.c.id == w.id))
                elapsed = now - float(old)
                if elapsed > window + UPTIME_CHUNK:
                    elapsed, reward = 0.0, 0  # back from a gap: restart its clock, pay nothing for the gap
                elif elapsed < UPTIME_CHUNK:
                    continue
                else:
                    reward = pricing.uptime_reward(elapsed, core.uptime_kudos_per_hour) if w.id in earning else 0
                moved = await conn.execute(update(_W).where(_W.c.id == w.id, _W.c.uptime_paid_until == old)
                                           .values(uptime_paid_until=now,
                                                   uptime_seconds=_W.c.uptime_seconds + int(elapsed),
                                                   kudos_uptime=_W.c.kudos_uptime + reward))
                if moved.rowcount == 1 and reward:
                    await settlement.reward_from_mint(conn, now, w.owner_id, reward, "uptime", w.id)
                    paid += 1
        return paid

    async def run_sweeps(self, stop: asyncio.Event) -> None:
        """Sweep every `sweep_interval` seconds until told to stop; errors are logged, never fatal."""
        interval = self.config.core.sweep_interval
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep failed; will retry")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)


def _earning(online: list[workers_repo.WorkerRow], busy_since: float, per_owner: int) -> set[str]:
    """Ids of the workers that earn uptime: finished a job since `busy_since`, at most `per_owner` of one
    owner (the most recently busy first)."""
    by_owner: dict[int, list[workers_repo.WorkerRow]] = {}
    for w in online:
        if w.last_job_at >= busy_since and w.last_job_at > 0:
            by_owner.setdefault(w.owner_id, []).append(w)
    return {w.id for ws in by_owner.values()
            for w in sorted(ws, key=lambda w: (-w.last_job_at, w.id))[:max(0, per_owner)]}
