"""Scan before release: an image from a worker that reports no safety check of its own is held
until an alchemist's `nsfw` form has scored it, then released, censored, or found csam by the
image verdict (safety/image_verdict.py). Kudos settle only at release; an image nobody could
score is released censored and refunded, never shown unchecked."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select, update

from horde_core.ledger import settlement
from horde_core.models import Job, Request
from horde_core.queue import lifecycle
from horde_core.queue import webhooks as webhook_queue
from horde_core.queue.states import ACTIVE, DONE, HELD, WAITING
from horde_core.safety.image_verdict import ImageVerdict, decide
from horde_core.workers import repo as workers_repo

from .safety import SafetyMixin

_J = Job.__table__.c
_R = Request.__table__.c


def _verdict(result: Any) -> ImageVerdict | None:
    """An alchemist's answer: `{"nsfw": bool, "scores": {concept: similarity}}`, or a bare bool/string."""
    if isinstance(result, dict) and isinstance(result.get("scores"), dict):
        scores = {str(k): float(v) for k, v in result["scores"].items() if isinstance(v, int | float)}
        return decide(scores)
    value = result.get("nsfw") if isinstance(result, dict) else result
    if isinstance(value, str):
        value = value.strip().lower() in ("true", "1", "yes")
    if isinstance(value, bool):
        return ImageVerdict(csam=False, nsfw=value)
    return None


class ScanMixin(SafetyMixin):
    def needs_scan(self, kind: str, values: dict[str, Any], censored: bool) -> bool:
        if kind != "image" or censored or not self.config.safety.scan_before_release:
            return False
        meta = json.loads(values.get("gen_metadata") or "[]")
        return not any(m.get("type") == "censorship" for m in meta)

    async def hold_for_scan(self, conn: Any, now: float, job_id: str, key: str) -> None:
        """Queue the held image for an alchemist: an internal interrogation with the `nsfw` form."""
        rid = str(uuid.uuid4())
        source = f"source/{rid}.webp"
        await self.store.put(source, await self.store.get(key) or b"")
        await lifecycle.insert_request(conn, {
            "id": rid, "kind": "interrogation", "user_id": 0, "state": ACTIVE, "created_at": now,
            "expires_at": now + self.config.core.request_expiry, "rank": now, "n": 1, "job_cost": 0, "job_tax": 0,
            "escrow": 0, "prompt": "", "params": json.dumps({"scan_job": job_id}), "source_image": source,
            "client_agent": "hordebot:scan", "proxied_account": ""}, [
            {"id": str(uuid.uuid4()), "request_id": rid, "kind": "interrogation", "user_id": 0, "state": WAITING,
             "rank": now, "form": "nsfw", "reward": 0, "units": 1}])
        await conn.execute(update(Job.__table__).where(_J.id == job_id).values(scan_request=rid))
        self.note_waiting("interrogation")

    async def release_scanned(self, job_id: str, result: Any) -> None:
        """Settle a held image by the alchemist's verdict (an unreadable one counts as unscanned)."""
        await self._release(job_id, _verdict(result))

    async def _release(self, job_id: str, verdict: ImageVerdict | None) -> None:
        now = self.clock.now()
        csam = bool(verdict and verdict.csam)
        async with self.db.transaction() as conn:
            row = await lifecycle.job_row(conn, job_id)
            request = await lifecycle.request_row(conn, row.request_id) if row is not None else None
            if row is None or request is None:
                return
            censor = csam or verdict is None or (verdict.nsfw and bool(request.censor_nsfw))
            meta = [{"type": "censorship", "value": "csam" if csam else "nsfw"}] if censor else []
            released = await conn.execute(update(Job.__table__).where(_J.id == job_id, _J.state == HELD).values(
                state=DONE, finished_at=now, censored=censor, gen_state="csam" if csam else (
                    "censored" if censor else "ok"), gen_metadata=json.dumps(meta) if meta else "",
                reward=0 if csam else _J.reward))
            if not released.rowcount:
                return  # released already (another node, or twice)
            worker = await workers_repo.by_id(conn, row.worker_id or "")
            owner = worker.owner_id if worker else 0
            cost = int(row.reward)
            if not censor:
                await settlement.pay_job(conn, now, request.id, job_id, owner, cost)
            else:
                await settlement.refund_jobs(conn, now, request.id, 1, cost, "censored")
                if not csam and owner:
                    await settlement.reward_from_mint(conn, now, owner, cost, "generation", job_id)
            hooked = await webhook_queue.enqueue(conn, request.id, job_id, 0 if censor else cost, now,
                                                 self.config.webhooks.max_pending)
            if row.worker_id:
                await workers_repo.record_job(conn, row.worker_id, row.model or "", 0 if csam else cost,
                                              int(row.units), now - float(row.popped_at or now), now)
        if hooked:
            self.wake_webhooks()
        if csam:
            await self._strike_for_csam(request.id)
        self.events.publish("job_finished", {"request_id": request.id, "job_id": job_id, "kind": "image",
                                             "censored": censor, "worker_owner": owner})

    async def release_unscanned(self) -> int:
        """Held images whose scan can no longer happen (faulted, expired) are released censored."""
        async with self.db.read() as conn:
            rows = (await conn.execute(
                select(_J.id).select_from(Job.__table__.join(Request.__table__, _R.id == _J.scan_request))
                .where(_J.state == HELD, _R.state != ACTIVE))).all()
        for (job_id,) in rows:
            await self._release(job_id, None)
        return len(rows)
