"""The load generator: keep-alive clients with a fixed number of requests in flight."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter

import aiohttp
from _infra import IMAGE, BenchError, Errors, Flow, Phase, headers, pop_body, tiny_webp_b64


class Load:
    """The client side: one keep-alive session, the keys, and the request loops."""

    def __init__(self, http: aiohttp.ClientSession, errors: Errors, concurrency: int) -> None:
        self.http, self.errors, self.concurrency = http, errors, concurrency
        tiny_webp_b64()  # build the image result (and import PIL) before anything is timed
        self._pop_bodies: dict[Flow, list[bytes]] = {}
        self.pop_bodies = self.bodies(IMAGE)
        self.worker_key = ""
        self.request_keys: list[str] = []
        self.max_errors = 200

    def bodies(self, flow: Flow) -> list[bytes]:
        """One pop body per worker loop, each with its own worker name (the same names all run long)."""
        if flow not in self._pop_bodies:
            self._pop_bodies[flow] = [flow.pop_body(f"{flow.worker_prefix}{i:02d}") for i in range(self.concurrency)]
        return self._pop_bodies[flow]

    async def post(self, url: str, body: bytes, hdrs: dict[str, str], where: str) -> tuple[int, bytes, float]:
        t = time.perf_counter()
        try:
            async with self.http.post(url, data=body, headers=hdrs) as r:
                data = await r.read()
                status = r.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self.error(where, f"{type(exc).__name__}: {exc}")
            return -1, b"", time.perf_counter() - t
        return status, data, time.perf_counter() - t

    def error(self, where: str, what: str) -> None:
        self.errors.add(where, what)
        if sum(self.errors.counts.values()) > self.max_errors:
            raise BenchError(f"more than {self.max_errors} errors; giving up")

    async def empty_pops(self, base: str, seconds: float, phase: Phase | None, where: str) -> int:
        """Pop as fast as `concurrency` loops allow for `seconds`; every answer must be the empty job."""
        url = f"{base}/api/v2/generate/pop"
        hdrs = headers(self.worker_key or "x" * 22)
        deadline = time.perf_counter() + seconds
        lat = phase.lat("pop (empty)") if phase else None
        done = 0

        async def loop(i: int) -> None:
            nonlocal done
            body = self.pop_bodies[i]
            while time.perf_counter() < deadline:
                status, data, dt = await self.post(url, body, hdrs, where)
                if status != 200:
                    if status != -1:
                        self.error(where, f"HTTP {status}: {data[:300]!r}")
                    continue
                if json.loads(data).get("id") is not None:
                    self.error(where, "the queue is not empty: a pop returned a job")
                    continue
                done += 1
                if lat is not None:
                    lat.append(dt)

        if phase:
            phase.begin()
        await asyncio.gather(*(loop(i) for i in range(self.concurrency)))
        if phase:
            phase.end()
        return done

    async def fill(self, base: str | tuple[str, ...], count: int, cap_seconds: float, phase: Phase, where: str,
                   flow: Flow = IMAGE) -> list[float]:
        """Queue `count` one-job requests, keys round-robin (and nodes, given several); returns completion
        times (perf_counter)."""
        bases = (base,) if isinstance(base, str) else base
        lat = phase.lat(f"{flow.label}async")
        deadline = time.perf_counter() + cap_seconds
        started = 0
        finished: list[float] = []

        async def loop(i: int) -> None:
            nonlocal started
            url = f"{bases[i % len(bases)]}{flow.async_path}"
            hdrs = headers(self.request_keys[i % len(self.request_keys)])
            while started < count and time.perf_counter() < deadline:
                started += 1
                status, data, dt = await self.post(url, flow.request_body, hdrs, where)
                if status != 202:
                    started -= 1
                    if status != -1:
                        self.error(where, f"HTTP {status}: {data[:300]!r}")
                    continue
                finished.append(time.perf_counter())
                lat.append(dt)

        phase.begin()
        await asyncio.gather(*(loop(i) for i in range(self.concurrency)))
        phase.end()
        return finished

    async def cycles(self, base: str | tuple[str, ...], count: int, cap_seconds: float, phase: Phase, where: str,
                     flow: Flow = IMAGE) -> tuple[int, int]:
        """`concurrency` workers loop pop -> submit until `count` jobs were claimed (given several nodes, each
        worker polls one of them, in turn); returns (cycles, empty pops)."""
        bases = (base,) if isinstance(base, str) else base
        hdrs = headers(self.worker_key)
        bodies = self.bodies(flow)
        pop_lat, submit_lat = phase.lat(f"{flow.label}pop (job)"), phase.lat(f"{flow.label}submit")
        deadline = time.perf_counter() + cap_seconds
        issued = done = empty = 0

        async def worker(i: int) -> None:
            nonlocal issued, done, empty
            body = bodies[i]
            node = bases[i % len(bases)]
            pop_url, submit_url = f"{node}{flow.pop_path}", f"{node}{flow.submit_path}"
            while issued < count and time.perf_counter() < deadline:
                issued += 1  # a pop in flight counts, so exactly `count` jobs are claimed
                status, data, dt = await self.post(pop_url, body, hdrs, where)
                if status != 200:
                    issued -= 1
                    if status != -1:
                        self.error(where, f"pop HTTP {status}: {data[:300]!r}")
                    continue
                job_id = json.loads(data).get("id")
                if not job_id:
                    issued -= 1
                    empty += 1  # the last jobs are in other workers' hands (or SKIP LOCKED hid them)
                    await asyncio.sleep(0.005)
                    continue
                pop_lat.append(dt)
                status, data, dt = await self.post(submit_url, flow.submit_body(job_id), hdrs, where)
                if status != 200:
                    if status != -1:
                        self.error(where, f"submit HTTP {status}: {data[:300]!r}")
                    continue
                submit_lat.append(dt)
                done += 1

        phase.begin()
        await asyncio.gather(*(worker(i) for i in range(self.concurrency)))
        phase.end()
        return done, empty

    async def rounds(self, base: str, total: int, round_size: int, fill_cap: float, cycle_cap: float,
                     fills: Phase, cycling: Phase, where: str, flow: Flow = IMAGE) -> tuple[int, int, int]:
        """Queue at most `round_size` requests, drain them with `cycles`, repeat until `total` cycles or
        `cycle_cap` seconds of cycling (fills do not count); returns (cycles, empty pops, requests queued)."""
        done = empty = queued = 0
        remaining = total
        while remaining > 0 and cycling.wall < cycle_cap:
            batch = min(round_size, remaining)
            filled = len(await self.fill(base, batch, fill_cap, fills, f"{where} fill", flow))
            if not filled:
                raise BenchError(f"could not queue any request for {where}")
            d, e = await self.cycles(base, filled, cycle_cap - cycling.wall, cycling, f"{where} cycles", flow)
            done, empty, queued, remaining = done + d, empty + e, queued + filled, remaining - filled
        return done, empty, queued

    async def first_pops(self, base: str, label: str, n: int = 32) -> tuple[Counter[int], int, list[str]]:
        """`n` pops at once from one worker name nobody used yet; returns statuses, worker rows, bodies."""
        name = f"bench-new-{label}-{uuid.uuid4().hex[:8]}"
        body = pop_body(name)
        hdrs = headers(self.worker_key)
        url = f"{base}/api/v2/generate/pop"
        results = await asyncio.gather(*(self.post(url, body, hdrs, f"(e) {label}") for _ in range(n)))
        statuses = Counter(status for status, _, _ in results)
        bad = [f"HTTP {s}: {d[:300]!r}" for s, d, _ in results if s != 200]
        async with self.http.get(f"{base}/api/v2/workers", params={"type": "image"}) as r:
            workers = await r.json() if r.status == 200 else []
        rows = sum(1 for w in workers if isinstance(w, dict) and w.get("name") == name)
        return statuses, rows, bad


# --- report ----------------------------------------------------------------------------------------


