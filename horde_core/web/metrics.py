"""/metrics in the Prometheus text format, and the latency histograms of pop, submit and check.

A scrape reads what is already in memory: the status board (rebuilt at most every web.status_ttl seconds, shared
with the status page), this node's job counters (`service.tally`) and the ledger/safety facts refreshed with the
board. The histograms are observed by a middleware that costs a dict lookup on routes it does not time.
bench/web.py measures empty pops/s with a scrape every second beside pops/s without.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from horde_core.service import HordeService

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Route (as declared by the API) -> (operation, kind) labels of the latency histogram.
TIMED = {
    "/api/v2/generate/pop": ("pop", "image"), "/api/v2/generate/text/pop": ("pop", "text"),
    "/api/v2/interrogate/pop": ("pop", "interrogation"),
    "/api/v2/generate/submit": ("submit", "image"), "/api/v2/generate/text/submit": ("submit", "text"),
    "/api/v2/interrogate/submit": ("submit", "interrogation"),
    "/api/v2/generate/check/{id}": ("check", "image"), "/api/v2/generate/status/{id}": ("status", "image"),
    "/api/v2/generate/text/status/{id}": ("status", "text"),
    "/api/v2/interrogate/status/{id}": ("status", "interrogation"),
}
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _HordeCollector(Collector):
    """Turns the cached board and counters into metric families at scrape time (no database work)."""

    def __init__(self, service: HordeService) -> None:
        self.service = service
        self.board = None
        self.facts = None

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        board, facts, tally = self.board, self.facts, self.service.tally
        if board is not None:
            queue = GaugeMetricFamily("horde_queue_jobs", "Jobs waiting, per kind", labels=["kind"])
            units = GaugeMetricFamily("horde_queue_units", "Work units waiting (megapixelsteps, tokens, forms)",
                                      labels=["kind"])
            workers = GaugeMetricFamily("horde_workers_online", "Workers online, per kind", labels=["kind"])
            threads = GaugeMetricFamily("horde_threads_online", "Threads of the workers online", labels=["kind"])
            eta = GaugeMetricFamily("horde_queue_eta_seconds", "Seconds to drain the queue at the recent pace",
                                    labels=["kind"])
            for k in board.kinds:
                queue.add_metric([k.kind], k.queued_jobs)
                units.add_metric([k.kind], k.queued_units)
                workers.add_metric([k.kind], k.workers)
                threads.add_metric([k.kind], k.threads)
                if k.eta is not None:
                    eta.add_metric([k.kind], k.eta)
            km = ["kind", "model"]
            per_model = GaugeMetricFamily("horde_model_queue_jobs", "Jobs waiting, per model", labels=km)
            model_workers = GaugeMetricFamily("horde_model_threads", "Threads serving a model", labels=km)
            model_eta = GaugeMetricFamily("horde_model_eta_seconds", "ETA of a model's queue", labels=km)
            for m in board.models:
                per_model.add_metric([m.kind, m.name], m.jobs)
                model_workers.add_metric([m.kind, m.name], m.count)
                model_eta.add_metric([m.kind, m.name], m.eta)
            yield from (queue, units, workers, threads, eta, per_model, model_workers, model_eta)
        jobs = CounterMetricFamily("horde_jobs", "Jobs this node saw end: finished, faulted (by their worker) or "
                                   "aborted (past their TTL)", labels=["outcome", "kind"])
        for (outcome, kind), n in sorted(tally.jobs.items()):
            jobs.add_metric([outcome, kind], n)
        yield jobs
        if facts is not None:
            minted = CounterMetricFamily("horde_kudos_minted", "Kudos created (grants, rewards, uptime), horde-wide")
            minted.add_metric([], facts.kudos_minted)
            burned = CounterMetricFamily("horde_kudos_burned", "Kudos burned (the horde tax, claw-backs), horde-wide")
            burned.add_metric([], facts.kudos_burned)
            strikes = GaugeMetricFamily("horde_strikes", "Strikes on record, per reason", labels=["reason"])
            for reason, n in sorted(facts.strikes.items()):
                strikes.add_metric([reason], n)
            sanctions = GaugeMetricFamily("horde_sanctions", "Sanctions in force, per state", labels=["state"])
            for state in ("timeout", "throttled", "suspended"):
                sanctions.add_metric([state], facts.sanctions.get(state, 0))
            yield from (minted, burned, strikes, sanctions)


class HordeMetrics:
    """The registry of one app: the collector above and the latency histograms."""

    def __init__(self, service: HordeService) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.collector = _HordeCollector(service)
        self.registry.register(self.collector)
        self.latency = Histogram("horde_api_seconds", "Time to answer pop, submit and check/status calls",
                                 ["op", "kind"], buckets=BUCKETS, registry=self.registry)
        self._children = {route: self.latency.labels(*labels) for route, labels in TIMED.items()}
        self.service = service

    def timer_for(self, request: web.Request) -> Histogram | None:
        info = request.match_info.route.resource
        return self._children.get(info.canonical) if info is not None else None

    async def scrape(self) -> bytes:
        self.collector.board = await self.service.status_board()
        self.collector.facts = await self.service.metrics_facts()
        return generate_latest(self.registry)


async def timed(metrics: HordeMetrics, request: web.Request, handler) -> web.StreamResponse:  # type: ignore[no-untyped-def]
    child = metrics.timer_for(request)
    if child is None:
        return await handler(request)
    start = time.perf_counter()
    try:
        return await handler(request)
    finally:
        child.observe(time.perf_counter() - start)
