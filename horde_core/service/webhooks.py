"""Webhooks (AI Horde's `webhook` on image, text and interrogation requests): each finished generation is
POSTed to the URL the request gave, as JSON with the generation's fields plus `request` (the request id),
`id` (the generation's) and `kudos` (what it cost), as AI Horde sends them.

Deliveries are rows in the database, queued in the submit's own transaction (queue/webhooks.py), so the submit
never waits on the receiver and a restart or another node finishes what one node started. A sender loop (run
by every API node) claims due rows under a lease, posts them with a timeout, retries a 5xx, a timeout or a
refused connection with exponential backoff up to `webhooks.max_tries`, and gives up on anything else (logged).
Each body is signed: `X-Horde-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed by webhooks.secret>`.
The URL must be http(s) and, unless `webhooks.allow_private`, resolve to public addresses only: checked when
the request is made (400 `InvalidWebhook`) and again by the sender against the addresses it connects to.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from horde_core.queue import lifecycle
from horde_core.queue import webhooks as queue

from .generation import GenerationMixin
from .webhook_rules import SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)
# (url, body, headers, timeout, allow_private) -> HTTP status; 0 when it could not connect or timed out;
# ValueError when the address is refused (private, loopback, link-local ...): that never gets better.
Poster = Callable[[str, bytes, dict[str, str], float, bool], Awaitable[int]]


class WebhookMixin(GenerationMixin):
    webhook_post: Poster | None = None  # set by the HTTP adapter (api/webhook_post.py)

    async def send_webhooks(self, holder: str = "", limit: int = 50) -> int:
        """One pass: post every due delivery this node could claim; how many were delivered."""
        if self.webhook_post is None:
            return 0
        cfg = self.config.webhooks
        holder = holder or self._webhook_holder()
        now = self.clock.now()
        async with self.db.read() as conn:
            if not await queue.any_due(conn, now):
                return 0
        async with self.db.transaction() as conn:
            rows = await queue.claim_due(conn, holder, now, cfg.lease, limit)
        outcomes = await asyncio.gather(*(self._post_one(row) for row in rows))
        delivered = 0
        async with self.db.transaction() as conn:
            for row, outcome in zip(rows, outcomes, strict=True):
                if outcome == "delivered":
                    delivered += 1
                if outcome == "retry" and int(row.tries) < cfg.max_tries:
                    when = self.clock.now() + cfg.first_backoff * 2 ** (int(row.tries) - 1)
                    await queue.retry_at(conn, row.id, holder, when)
                    continue
                if outcome != "delivered":
                    log.warning("webhook for generation %s of request %s given up after %s tries (%s)",
                                row.job_id, row.request_id, row.tries, outcome)
                await queue.forget(conn, row.id, holder)
        return delivered

    async def _post_one(self, row: Any) -> str:
        """delivered | retry | a reason to give up."""
        assert self.webhook_post is not None
        cfg = self.config.webhooks
        body = await self._webhook_body(row)
        if body is None:
            return "the generation is gone"
        headers = {"Content-Type": "application/json"}
        if cfg.secret:
            headers[SIGNATURE_HEADER] = sign(cfg.secret, body)
        try:
            status = await self.webhook_post(row.url, body, headers, cfg.timeout, cfg.allow_private)
        except ValueError as exc:
            return f"refused: {exc}"
        if 200 <= status < 300:
            return "delivered"
        if status == 0 or status >= 500 or status == 429:
            return "retry"
        return f"HTTP {status}"

    async def _webhook_body(self, row: Any) -> bytes | None:
        """AI Horde's webhook JSON: the generation's own fields, then request, id, kudos."""
        async with self.db.read() as conn:
            job = await lifecycle.job_row(conn, row.job_id)
            request = await lifecycle.request_row(conn, row.request_id)
        if job is None or request is None:
            return None
        worker = await self.worker_brief(job.worker_id)
        data: dict[str, Any]
        if request.kind == "interrogation":
            result = json.loads(job.result or "{}")
            if job.image_key:
                result = {job.form: self.download_url(job.image_key)}
            data = {"form": job.form, "state": job.state, "result": result}
        else:
            gen = await self._generation(request, job)
            data = {"seed": gen.seed if request.kind == "image" else _int_seed(gen.seed),
                    "model": gen.model, "state": gen.state, "gen_metadata": gen.gen_metadata}
            if request.kind == "image":
                data.update(img=gen.img, censored=gen.censored)
            else:
                data["text"] = gen.text
        data.update(worker_id=job.worker_id or "", worker_name=worker[1], request=request.id, id=job.id,
                    kudos=float(row.kudos))
        return json.dumps(data, separators=(",", ":")).encode()

    def _webhook_holder(self) -> str:
        holder = getattr(self, "_webhook_holder_id", "")
        if not holder:
            holder = self._webhook_holder_id = uuid.uuid4().hex
        return holder

    async def run_webhooks(self, stop: asyncio.Event) -> None:
        """Send due webhooks until told to stop: at once when woken, else every `webhooks.interval` seconds."""
        self.webhook_wake = wake = asyncio.Event()
        while not stop.is_set():
            wake.clear()
            try:
                await self.send_webhooks()
            except Exception:
                log.exception("webhook pass failed; will retry")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=self.config.webhooks.interval)


def _int_seed(seed: str) -> int:
    try:
        return int(seed)
    except ValueError:
        return 0
