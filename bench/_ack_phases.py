"""The two measurements of the bot ack bench, driven through the timed harness: acknowledgement latency of
/generate interactions arriving at Poisson times (`Bench.ack_phase`) and progress edits per job
(`Bench.edits_phase`). Each phase returns plain results for `_ack_report` to print.

A module of its own so that what is measured, and how, reads apart from building the world and printing tables.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

from _ack_infra import EDIT_INTERVAL, EDIT_WORKER_DELAY, MODEL, CpuWindow, Errors, Sizes
from _ack_world import DelayedWorker, GcWatch, LagProbe


@dataclass
class AckResult:
    name: str
    dispatch_to_ack: list[float] = field(default_factory=list)
    arrival_to_ack: list[float] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)
    gc_pauses: list[float] = field(default_factory=list)
    cpu: CpuWindow = field(default_factory=CpuWindow)
    served: int = 0
    max_in_flight: int = 0
    wall_to_last_result: float = 0.0


@dataclass
class Job:
    rid: str
    cog_edits: int
    patches: int
    served_in: float  # ack -> result posted, seconds


@dataclass
class EditsResult:
    name: str
    jobs: list[Job] = field(default_factory=list)


class Bench:
    def __init__(self, h: Any, cog: Any, worker: DelayedWorker, probe: LagProbe, gcw: GcWatch,
                 errors: Errors) -> None:
        self.h, self.cog, self.worker, self.probe, self.gcw, self.errors = h, cog, worker, probe, gcw, errors
        self.counter = 0

    async def generate(self, where: str, max_wait: float) -> Any:
        """One /generate from the next member; returns the record, or None (error noted)."""
        self.counter += 1
        members = self.h.members
        member = members[self.counter % len(members)]
        try:
            rec = await self.h.slash("generate", {"prompt": f"a lighthouse at dusk, take {self.counter}",
                                                  "model": MODEL}, user=member, max_wait=max_wait)
        except Exception as exc:
            self.errors.add(where, f"{type(exc).__name__}: {exc}")
            return None
        if rec.type != 5:
            self.errors.add(where, f"acknowledged with callback type {rec.type}, not a deferral (5)")
        final = rec.original
        if final is None or final.deleted or not final.files:
            said = rec.followups[-1].content if rec.followups else (final.content if final else None)
            self.errors.add(where, f"no image was posted; the bot said: {said!r}")
            return None
        return rec

    async def ack_phase(self, name: str, sizes: Sizes, load_pid: int | None) -> AckResult:
        result = AckResult(name, cpu=CpuWindow(load_pid=load_pid))
        rng = random.Random(20240601)  # the same arrival times in every phase
        offsets, t = [], 0.0
        for _ in range(sizes.interactions):
            offsets.append(t)
            t += rng.expovariate(sizes.arrivals_per_second)
        in_flight = 0

        async def one(arrival: float) -> None:
            nonlocal in_flight
            in_flight += 1
            result.max_in_flight = max(result.max_in_flight, in_flight)
            try:
                rec = await self.generate(f"{name} /generate", max_wait=60.0)
            finally:
                in_flight -= 1
            if rec is None:
                return
            result.served += 1
            acked = self.h.acked.get(rec.token)
            if acked is None:
                self.errors.add(f"{name} /generate", "no interaction callback was captured")
                return
            result.dispatch_to_ack.append(acked[0] - self.h.dispatched[rec.token])
            result.arrival_to_ack.append(acked[0] - arrival)

        self.probe.samples, self.gcw.samples = result.lag, result.gc_pauses
        result.cpu.begin()
        start = time.perf_counter() + 0.05
        tasks = []
        for offset in offsets:
            arrival = start + offset
            await asyncio.sleep(max(0.0, arrival - time.perf_counter()))
            tasks.append(asyncio.create_task(one(arrival)))
        await asyncio.gather(*tasks)
        result.wall_to_last_result = time.perf_counter() - start
        result.cpu.end()
        self.probe.samples = self.gcw.samples = None
        return result

    async def edits_phase(self, name: str, sizes: Sizes) -> EditsResult:
        result = EditsResult(name)
        courier = self.cog.deliveries  # the bot's courier follows every result (bot/deliveries.py)
        saved = (courier.edit_interval, courier.poll_interval, self.worker.delay)
        courier.edit_interval = courier.poll_interval = EDIT_INTERVAL
        self.worker.delay = EDIT_WORKER_DELAY

        async def one() -> None:
            rec = await self.generate(f"{name} /generate (edits)", max_wait=60.0)
            if rec is None:
                return
            done = time.perf_counter()
            rid = next((c.split(":")[2] for c in rec.original.custom_ids if c.startswith("gen:reroll:")), None)
            if rid is None:
                self.errors.add(f"{name} edits", "no Reroll button on the result: cannot tell the request id")
                return
            patches = sum(1 for e in rec.edits if e.get("embeds") and e["embeds"][0].get("title") == "Generating…")
            acked = self.h.acked.get(rec.token, (done, None))[0]
            result.jobs.append(Job(rid, courier.edits.get(rid, 0), patches, done - acked))

        try:
            tasks = []
            for _ in range(sizes.edit_jobs):
                tasks.append(asyncio.create_task(one()))
                await asyncio.sleep(0.15)
            await asyncio.gather(*tasks)
        finally:
            courier.edit_interval, courier.poll_interval, self.worker.delay = saved
        return result
