"""Web bench (issue 15): the status page and /metrics next to the hot paths they must not slow, in one run.

    .venv/bin/python bench/web.py [--quick] [--database-url URL]

The horde runs as `python main.py` in a subprocess on a fresh SQLite file in a temp dir (or --database-url); the
load comes from this process over keep-alive connections. Figures:

  (m) empty pops/s with one GET /metrics every second, beside empty pops/s without, back to back (target >= 0.9x:
      a scrape reads cached views, so it must not slow the pops)
  (s) GET / (the status page) requests/s with 10,000 users, 1,000 workers online and 20,000 queued requests, beside
      GET /api/v2/status/heartbeat requests/s on the same server (target >= 0.2x)
  (-) for information: GET /workers (the 1,000-row table) and GET /metrics requests/s in that world

Users are inserted straight into the database (10,000 `user create` processes would take minutes); workers join by
popping through the API, and the requests are queued through the API. Timings are never asserted; the exit status
is 1 only when a request or the server failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from _infra import MAIN, REPO, BenchError, Errors, Phase, Server, create_user, dumps, free_port, headers, server_env
from _load import Load
from _report import fmt_rate, fmt_ratio, log, phase_rows, rate, table

sys.path.insert(0, str(REPO))

TARGET_SCRAPE_RATIO = 0.9
TARGET_STATUS_RATIO = 0.2
MODELS = [f"bench_model_{i:02d}" for i in range(20)]


async def seed_users(database_url: str, count: int) -> None:
    """`count` users inserted in one transaction (no keys: they exist to be counted and ranked)."""
    from sqlalchemy import insert

    from horde_core.db import Database
    from horde_core.models import User

    db = Database(database_url)
    now = time.time()
    rows = [{"username": f"bench-member-{i}", "api_key_hash": None, "kudos": (i * 7919) % 100_000,
             "trusted": False, "concurrency": 30, "created_at": now} for i in range(count)]
    try:
        async with db.transaction() as conn:
            for start in range(0, len(rows), 2000):
                await conn.execute(insert(User.__table__), rows[start:start + 2000])
    finally:
        await db.dispose()


async def gets(http: aiohttp.ClientSession, url: str, seconds: float, concurrency: int, phase: Phase | None,
               label: str, errors: Errors) -> int:
    deadline = time.perf_counter() + seconds
    lat = phase.lat(label) if phase else None
    done = 0

    async def loop() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            try:
                async with http.get(url) as r:
                    await r.read()
                    status = r.status
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                errors.add(label, f"{type(exc).__name__}: {exc}")
                continue
            if status != 200:
                errors.add(label, f"HTTP {status}")
                continue
            done += 1
            if lat is not None:
                lat.append(time.perf_counter() - t)

    if phase:
        phase.begin()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    if phase:
        phase.end()
    return done


async def scraper(http: aiohttp.ClientSession, url: str, stop: asyncio.Event, lat: list[float],
                  errors: Errors) -> None:
    """One scrape a second, like a Prometheus server would."""
    while not stop.is_set():
        t = time.perf_counter()
        try:
            async with http.get(url) as r:
                await r.read()
                if r.status != 200:
                    errors.add("scrape", f"HTTP {r.status}")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            errors.add("scrape", f"{type(exc).__name__}: {exc}")
        lat.append(time.perf_counter() - t)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, 1.0 - (time.perf_counter() - t)))


async def join_workers(load: Load, base: str, count: int) -> None:
    """`count` workers pop once each (nothing is queued yet), so they are online with their models."""
    url = f"{base}/api/v2/generate/pop"
    hdrs = headers(load.worker_key)
    names = iter(range(count))

    async def loop() -> None:
        for i in names:
            body = dumps({"name": f"bench-web-worker-{i:04d}", "models": [MODELS[i % len(MODELS)]],
                          "threads": 1 + i % 4, "bridge_agent": "hordebot-bench:1:local", "max_pixels": 1048576})
            status, data, _ = await load.post(url, body, hdrs, "join")
            if status != 200:
                load.error("join", f"HTTP {status}: {data[:200]!r}")

    await asyncio.gather(*(loop() for _ in range(load.concurrency)))


async def queue_requests(load: Load, base: str, count: int, cap: float) -> int:
    url = f"{base}/api/v2/generate/async"
    started = 0
    deadline = time.perf_counter() + cap

    async def loop(k: int) -> None:
        nonlocal started
        hdrs = headers(load.request_keys[k % len(load.request_keys)])
        while started < count and time.perf_counter() < deadline:
            i = started
            started += 1
            body = dumps({"prompt": f"a lighthouse number {i}", "models": [MODELS[i % len(MODELS)]],
                          "params": {"width": 512, "height": 512, "steps": 20, "n": 1}})
            status, data, _ = await load.post(url, body, hdrs, "queue")
            if status != 202:
                started -= 1
                load.error("queue", f"HTTP {status}: {data[:200]!r}")

    await asyncio.gather(*(loop(k) for k in range(load.concurrency)))
    return started


async def run(args: argparse.Namespace, tmp: Path, errors: Errors) -> int:
    quick = args.quick
    users, workers, queued = (1000, 100, 2000) if quick else (10_000, 1000, 20_000)
    seconds = 2.0 if quick else 8.0
    conc = args.concurrency
    port = free_port()
    database_url = args.database_url or f"sqlite:///{tmp / 'data' / 'horde.db'}"
    env = server_env(tmp / "data", port, args.database_url or "")
    horde = Server("horde", [sys.executable, str(MAIN)], env=env, cwd=tmp, port=port)
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=conc + 8, keepalive_timeout=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        horde.start()
        try:
            await horde.wait_ready(http)
            pid = horde.proc.pid if horde.proc else None
            load = Load(http, errors, conc)
            tag = uuid.uuid4().hex[:6]
            keys = await asyncio.gather(create_user(env, tmp, f"bench-gpu-{tag}"),
                                        *(create_user(env, tmp, f"bench-req{i}-{tag}") for i in range(4)))
            load.worker_key, load.request_keys = keys[0], list(keys[1:])
            await seed_users(database_url, users)
            log(f"seeded {users:,} users")
            await join_workers(load, horde.base, workers)
            log(f"{workers:,} workers joined")

            # (m) empty pops without and with a scrape every second, twice, alternating (noise shows as spread).
            await load.empty_pops(horde.base, 1.0, None, "warm-up")
            plain, scraped = Phase("(m) pops", pid), Phase("(m) pops + scrape", pid)
            scrape_lat: list[float] = []
            counts = {"plain": 0, "scraped": 0}
            for _ in range(2):
                counts["plain"] += await load.empty_pops(horde.base, seconds, plain, "(m) pops")
                stop = asyncio.Event()
                task = asyncio.create_task(scraper(http, f"{horde.base}/metrics", stop, scrape_lat, errors))
                counts["scraped"] += await load.empty_pops(horde.base, seconds, scraped, "(m) pops + scrape")
                stop.set()
                await task
            scraped.latencies["scrape /metrics"] = scrape_lat
            plain_rate, scraped_rate = rate(counts["plain"], plain.wall), rate(counts["scraped"], scraped.wall)
            log(f"(m) empty pops {fmt_rate(plain_rate)}, with a scrape a second {fmt_rate(scraped_rate)}")

            t = time.perf_counter()
            n = await queue_requests(load, horde.base, queued, 240.0)
            log(f"queued {n:,} requests in {time.perf_counter() - t:.0f} s")
            if n < queued:
                errors.add("queue", f"only {n:,} of {queued:,} requests were queued")

            # (s) the status page beside the heartbeat, alternating.
            heart, status = Phase("(s) heartbeat", pid), Phase("(s) status page", pid)
            others = Phase("(-) other pages", pid)
            await gets(http, f"{horde.base}/", 1.0, conc, None, "warm-up", errors)
            counts = {"heart": 0, "status": 0}
            for _ in range(2):
                counts["heart"] += await gets(http, f"{horde.base}/api/v2/status/heartbeat", seconds, conc, heart,
                                              "GET heartbeat", errors)
                counts["status"] += await gets(http, f"{horde.base}/", seconds, conc, status, "GET /", errors)
            heart_rate, status_rate = rate(counts["heart"], heart.wall), rate(counts["status"], status.wall)
            others.begin()
            t = time.perf_counter()
            n_workers = await gets(http, f"{horde.base}/workers", seconds / 2, conc, None, "GET /workers", errors)
            workers_rate = rate(n_workers, time.perf_counter() - t)
            t = time.perf_counter()
            n_metrics = await gets(http, f"{horde.base}/metrics", seconds / 2, conc, None, "GET /metrics", errors)
            metrics_rate = rate(n_metrics, time.perf_counter() - t)
            others.end()
            log(f"(s) status page {fmt_rate(status_rate)}, heartbeat {fmt_rate(heart_rate)}")
        finally:
            code = horde.stop()
            for line in horde.tail(200).splitlines():
                if " ERROR " in line or "Traceback" in line:
                    errors.add("horde log", line)
            if code not in (0, None):
                errors.add("horde", f"exited with {code}")

    ratio_m, ratio_s = rate(scraped_rate, plain_rate), rate(status_rate, heart_rate)
    print()
    print(f"hordebot web bench ({'quick' if quick else 'full'}; {users:,} users, {workers:,} workers, "
          f"{queued:,} queued; {conc} in flight; {os.cpu_count()} CPUs)")
    print(table([
        ["(m) empty pops/s, a /metrics scrape every second", fmt_rate(scraped_rate),
         f"without scrapes {fmt_rate(plain_rate)}", fmt_ratio(ratio_m), f">= {TARGET_SCRAPE_RATIO}x",
         "yes" if ratio_m >= TARGET_SCRAPE_RATIO else "NO"],
        ["(s) status page GET / per second", fmt_rate(status_rate), f"heartbeat {fmt_rate(heart_rate)}",
         fmt_ratio(ratio_s), f">= {TARGET_STATUS_RATIO}x", "yes" if ratio_s >= TARGET_STATUS_RATIO else "NO"],
        ["(-) GET /workers (all workers) per second", fmt_rate(workers_rate), "-", "-", "-", "-"],
        ["(-) GET /metrics per second", fmt_rate(metrics_rate), "-", "-", "-", "-"],
    ], ["figure", "measured", "baseline (same run)", "ratio", "target", "met"]))
    print()
    print(table(phase_rows([plain, scraped, heart, status]),
                ["phase", "request", "count", "p50 ms", "p99 ms", "max ms", "server CPU", "server us/req",
                 "bench CPU", "machine"]))
    return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a short smoke run with a tenth of the sizes")
    p.add_argument("--database-url", default="", help="an existing (empty) database; default: SQLite in a temp dir")
    p.add_argument("--concurrency", type=int, default=32)
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="hordebot-web-bench-"))
    errors = Errors()
    try:
        asyncio.run(run(args, tmp, errors))
    except BenchError as exc:
        errors.add("bench", str(exc))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if errors:
        print("\nerrors:")
        for line in errors.samples:
            print(f"  {line}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
