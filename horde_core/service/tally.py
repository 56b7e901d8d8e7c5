"""Counters this process keeps for /metrics: jobs finished, faulted and aborted per kind.

Incremented after the transaction that did the work committed (finished jobs by listening to the
`job_finished` event, so the submit path is untouched); a dict increment costs nothing next to a pop.
They count what this node did since it started, as Prometheus counters do (it sums over nodes and
handles restarts); horde-wide history lives in the minute counters (stats_minutes).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from horde_core.events import Bus


class Tally:
    def __init__(self) -> None:
        self.jobs: Counter[tuple[str, str]] = Counter()  # (outcome, kind) -> count

    def count(self, outcome: str, kind: str, n: int = 1) -> None:
        if n:
            self.jobs[(outcome, kind)] += n

    def listen(self, events: Bus) -> None:
        # Only this node's jobs: on several nodes the bus also brings the others' (Prometheus sums the nodes).
        events.subscribe("job_finished", self._finished, local_only=True)

    def _finished(self, payload: dict[str, Any]) -> None:
        self.count("finished", str(payload.get("kind") or "image"))
