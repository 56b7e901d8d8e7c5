"""Broker throughput benchmark: the horde API under load, next to a bare aiohttp baseline.

Run by hand (`make bench`, or `.venv/bin/python bench/broker.py [--quick] [--postgres]`). The server runs in
its own subprocess (a fresh database in a temp dir, or PostgreSQL); the load comes from this process over
keep-alive aiohttp connections with a fixed number of requests in flight. Figures:

  (a) empty pops/s (nothing queued) beside a bare aiohttp server that only parses the body (same run)
  (b) pop+submit cycles/s with a shallow queue (filled in rounds, never deeper than --round-size)
  (c) the same cycles with 20,000 requests waiting (the pop must not scan the queue)
  (d) requests accepted/s by POST /generate/async, several keys in parallel (it also fills the queue for c)
  (e) non-200 answers to 32 concurrent first pops of one new worker name (empty queue, then a deep one)

Timings are reported, never asserted: the exit status is 1 only when something errored.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
MAIN = REPO / "main.py"
HOST = "127.0.0.1"
AGENT = "hordebot-bench:1:local"

# The AI Horde server itself, measured on this machine (from the issue).
AI_HORDE = {"a": "~60/s", "b": "13/s", "c": "4/s", "d": "26/s", "e": "-"}
TARGET_POP_RATIO = 0.5
TARGET_CYCLES = 500.0
TARGET_DEEP_RATIO = 0.8
TARGET_ACCEPTED = 1000.0

BASELINE_SERVER = """
import sys
from aiohttp import web

EMPTY = {"id": None, "ids": [], "payload": {}, "skipped": {}}

async def pop(request):
    await request.json()
    return web.json_response(EMPTY)

async def heartbeat(request):
    return web.json_response({"version": "baseline"})

app = web.Application()
app.router.add_post("/api/v2/generate/pop", pop)
app.router.add_get("/api/v2/status/heartbeat", heartbeat)
web.run_app(app, host=sys.argv[1], port=int(sys.argv[2]), access_log=None, print=None)
"""


@dataclass(frozen=True)
class Sizes:
    pop_seconds: float
    warmup_seconds: float
    shallow_cycles: int
    deep_waiting: int
    deep_cycles: int
    fill_cap_seconds: float
    cycle_cap_seconds: float


FULL = Sizes(pop_seconds=8.0, warmup_seconds=1.5, shallow_cycles=5000, deep_waiting=20_000, deep_cycles=5000,
             fill_cap_seconds=60.0, cycle_cap_seconds=20.0)
QUICK = Sizes(pop_seconds=1.5, warmup_seconds=0.3, shallow_cycles=600, deep_waiting=2000, deep_cycles=600,
              fill_cap_seconds=6.0, cycle_cap_seconds=3.0)


class BenchError(Exception):
    pass


# --- measurements -------------------------------------------------------------------------------


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of a live process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return math.nan


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    try:
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return float(sum(values) - idle), float(sum(values))
    except (OSError, ValueError, IndexError):
        return math.nan, math.nan


@dataclass
class Phase:
    """One measured phase: latencies per request type and CPU use over its (possibly several) windows."""

    name: str
    server_pid: int | None = None
    latencies: dict[str, list[float]] = field(default_factory=dict)
    wall: float = 0.0
    server_cpu: float = 0.0
    bench_cpu: float = 0.0
    machine_busy: float = 0.0
    machine_total: float = 0.0
    _mark: tuple[float, float, float, float, float] | None = None

    def lat(self, label: str) -> list[float]:
        return self.latencies.setdefault(label, [])

    def begin(self) -> None:
        busy, total = _machine_cpu()
        server = _proc_cpu(self.server_pid) if self.server_pid else math.nan
        self._mark = (time.perf_counter(), server, time.process_time(), busy, total)

    def end(self) -> float:
        """Close a window; returns its wall time."""
        assert self._mark is not None
        t0, s0, b0, busy0, total0 = self._mark
        busy, total = _machine_cpu()
        wall = time.perf_counter() - t0
        self.wall += wall
        if self.server_pid:
            self.server_cpu += _proc_cpu(self.server_pid) - s0
        self.bench_cpu += time.process_time() - b0
        self.machine_busy += busy - busy0
        self.machine_total += total - total0
        self._mark = None
        return wall


class Errors:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.samples: list[str] = []

    def add(self, where: str, what: str) -> None:
        key = f"{where}: {what.splitlines()[0][:80] if what else ''}"
        self.counts[key] += 1
        if self.counts[key] <= 3 and len(self.samples) < 40:
            # the end of a long message (a log tail, a traceback) is the informative part
            self.samples.append(f"{where}: {what if len(what) <= 3000 else '...' + what[-3000:]}")

    def __bool__(self) -> bool:
        return bool(self.counts)


# --- processes -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Server:
    """A server in its own subprocess, logging to a file in the temp dir; `stop` terminates and waits."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path, port: int) -> None:
        self.name, self.argv, self.env, self.cwd, self.port = name, argv, env, cwd, port
        self.log_path = cwd / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT)

    async def wait_ready(self, http: aiohttp.ClientSession, within: float = 90.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                async with http.get(f"{self.base}/api/v2/status/heartbeat") as r:
                    if r.status == 200:
                        return
            except (aiohttp.ClientError, OSError):
                pass
            await asyncio.sleep(0.1)
        raise BenchError(f"{self.name} did not answer within {within:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def server_env(data_dir: Path, port: int, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HORDE_")}
    env.update({
        "PYTHONDONTWRITEBYTECODE": "1",  # leave nothing behind in the repo
        "HORDE_API__HOST": HOST,
        "HORDE_API__PORT": str(port),
        "HORDE_CORE__DATA_DIR": str(data_dir),
        "HORDE_CORE__DATABASE_URL": database_url,
        "HORDE_API__REQUESTS_PER_SECOND": "1000000",
        "HORDE_API__REQUEST_BURST": "1000000",
        "HORDE_BOT__TOKEN": "",
    })
    return env


async def create_user(env: dict[str, str], cwd: Path, name: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(MAIN), "user", "create", name, "--kudos", "100000000", "--concurrency", "10000000",
        cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    lines = out.decode().strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise BenchError(f"user create {name} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return lines[-1].strip()


def _pg_parts(url: str) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if not u.drivername.startswith("postgresql"):
        raise BenchError(f"--postgres needs a PostgreSQL URL, not {u.drivername}")
    return {"host": u.host or HOST, "port": u.port or 5432, "user": u.username or "postgres",
            "password": u.password, "database": u.database}


async def pg_admin(url: str, action: str) -> None:
    import asyncpg

    parts = _pg_parts(url)
    name = parts.pop("database")
    if not name or '"' in name:
        raise BenchError(f"bad database name in {url!r}")
    conn = await asyncpg.connect(database="postgres", **parts)
    try:
        if action == "create":
            await conn.execute(f'CREATE DATABASE "{name}"')
        else:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# --- load ------------------------------------------------------------------------------------------


def tiny_webp_b64() -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (180, 40, 60)).save(buf, format="WEBP", quality=80)
    return base64.b64encode(buf.getvalue()).decode()


def dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def pop_body(name: str) -> bytes:
    return dumps({"name": name, "models": ["stable_diffusion"], "max_pixels": 1024 * 1024, "amount": 1,
                  "threads": 1, "nsfw": False, "bridge_agent": AGENT, "require_upfront_kudos": False,
                  "allow_img2img": True, "allow_painting": True, "allow_post_processing": True,
                  "allow_controlnet": False, "allow_lora": False, "allow_unsafe_ipaddr": True,
                  "blacklist": [], "priority_usernames": []})


REQUEST_BODY = dumps({"prompt": "a lighthouse at dusk, oil painting ### blurry", "models": ["stable_diffusion"],
                      "params": {"width": 512, "height": 512, "steps": 20, "n": 1, "sampler_name": "k_euler_a",
                                 "cfg_scale": 7.0, "karras": True},
                      "nsfw": False, "censor_nsfw": False, "r2": True, "shared": False})


def headers(key: str) -> dict[str, str]:
    return {"apikey": key, "Client-Agent": AGENT, "Content-Type": "application/json"}


class Load:
    """The client side: one keep-alive session, the keys, and the request loops."""

    def __init__(self, http: aiohttp.ClientSession, errors: Errors, concurrency: int) -> None:
        self.http, self.errors, self.concurrency = http, errors, concurrency
        self.webp = tiny_webp_b64()
        self.worker_names = [f"bench-worker-{i:02d}" for i in range(concurrency)]
        self.pop_bodies = [pop_body(n) for n in self.worker_names]
        self.worker_key = ""
        self.request_keys: list[str] = []
        self.max_errors = 200

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

    async def fill(self, base: str, count: int, cap_seconds: float, phase: Phase, where: str) -> list[float]:
        """Queue `count` one-image requests, keys round-robin; returns completion times (perf_counter)."""
        url = f"{base}/api/v2/generate/async"
        lat = phase.lat("async")
        deadline = time.perf_counter() + cap_seconds
        started = 0
        finished: list[float] = []

        async def loop(i: int) -> None:
            nonlocal started
            hdrs = headers(self.request_keys[i % len(self.request_keys)])
            while started < count and time.perf_counter() < deadline:
                started += 1
                status, data, dt = await self.post(url, REQUEST_BODY, hdrs, where)
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

    async def cycles(self, base: str, count: int, cap_seconds: float, phase: Phase, where: str) -> tuple[int, int]:
        """`concurrency` workers loop pop -> submit until `count` jobs were claimed; returns (cycles, empty pops)."""
        pop_url, submit_url = f"{base}/api/v2/generate/pop", f"{base}/api/v2/generate/submit"
        hdrs = headers(self.worker_key)
        pop_lat, submit_lat = phase.lat("pop (job)"), phase.lat("submit")
        deadline = time.perf_counter() + cap_seconds
        issued = done = empty = 0

        async def worker(i: int) -> None:
            nonlocal issued, done, empty
            body = self.pop_bodies[i]
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
                sub = dumps({"id": job_id, "generation": self.webp, "state": "ok", "seed": "1234"})
                status, data, dt = await self.post(submit_url, sub, hdrs, where)
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


def pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def rate(n: float, seconds: float) -> float:
    return n / seconds if seconds > 0 else math.nan


def fmt_rate(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:,.0f}/s"


def fmt_ratio(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.2f}x"


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def _share(seconds: float, wall: float) -> str:
    return "n/a" if math.isnan(seconds) or wall <= 0 else f"{100 * seconds / wall:.0f}%"


def cpu_per_request(ph: Phase) -> float:
    """Server CPU seconds per answered request of the phase."""
    n = sum(len(v) for v in ph.latencies.values())
    return ph.server_cpu / n if n else math.nan


def phase_rows(phases: list[Phase]) -> list[list[str]]:
    rows = []
    for ph in phases:
        per = cpu_per_request(ph)
        for label, lat in ph.latencies.items():
            machine = ("n/a" if not ph.machine_total or math.isnan(ph.machine_total)
                       else f"{100 * ph.machine_busy / ph.machine_total:.0f}%")
            rows.append([ph.name, label, f"{len(lat):,}", f"{1000 * pct(lat, 0.5):.1f}",
                         f"{1000 * pct(lat, 0.99):.1f}", f"{1000 * max(lat, default=math.nan):.1f}",
                         _share(ph.server_cpu, ph.wall), "n/a" if math.isnan(per) else f"{1e6 * per:,.0f}",
                         _share(ph.bench_cpu, ph.wall), machine])
    return rows


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- the run ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, tmp: Path, servers: list[Server], errors: Errors) -> list[str]:
    sizes = QUICK if args.quick else FULL
    conc = args.concurrency
    notes: list[str] = []
    busy0, total0 = _machine_cpu()
    await asyncio.sleep(1.0)
    busy1, total1 = _machine_cpu()
    busy_before = rate(busy1 - busy0, total1 - total0)
    log(f"machine {100 * busy_before:.0f}% busy before the run ({os.cpu_count()} CPUs)")
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=conc + 8, limit_per_host=conc + 8, keepalive_timeout=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        load = Load(http, errors, conc)

        # (a) baseline: a bare aiohttp server that parses the body and answers the empty job.
        port = free_port()
        base_srv = Server("baseline", [sys.executable, "-c", BASELINE_SERVER, HOST, str(port)],
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, cwd=tmp, port=port)
        servers.append(base_srv)
        base_srv.start()
        await base_srv.wait_ready(http)
        log(f"baseline server up (pid {base_srv.proc.pid if base_srv.proc else '?'}); "
            f"{sizes.pop_seconds:.0f} s of empty pops, {conc} in flight")
        baseline = Phase("(a) baseline", base_srv.proc.pid if base_srv.proc else None)
        await load.empty_pops(base_srv.base, sizes.warmup_seconds, None, "(a) baseline warm-up")
        n = await load.empty_pops(base_srv.base, sizes.pop_seconds, baseline, "(a) baseline")
        base_rate = rate(n, baseline.wall)
        base_srv.stop()
        log(f"baseline: {fmt_rate(base_rate)}")

        # The horde.
        port = free_port()
        data_dir = tmp / "data"
        env = server_env(data_dir, port, args.database_url or "")
        argv = [sys.executable, str(MAIN)]
        if args.cprofile:
            argv = [sys.executable, "-m", "cProfile", "-o", args.cprofile, str(MAIN)]
        horde = Server("horde", argv, env=env, cwd=tmp, port=port)
        servers.append(horde)
        t = time.perf_counter()
        horde.start()
        await horde.wait_ready(http)
        pid = horde.proc.pid if horde.proc else None
        log(f"horde up in {time.perf_counter() - t:.1f} s (pid {pid}, "
            f"database: {'PostgreSQL' if args.database_url.startswith('postgres') else 'SQLite'})")
        tag = uuid.uuid4().hex[:6]
        keys = await asyncio.gather(create_user(env, tmp, f"bench-gpu-{tag}"),
                                    *(create_user(env, tmp, f"bench-req{i}-{tag}") for i in range(args.keys)))
        load.worker_key, load.request_keys = keys[0], list(keys[1:])
        log(f"created 1 worker user and {args.keys} requester users")

        # (a) empty pops on the horde.
        pops = Phase("(a) horde", pid)
        await load.empty_pops(horde.base, sizes.warmup_seconds, None, "(a) horde warm-up")
        n = await load.empty_pops(horde.base, sizes.pop_seconds, pops, "(a) horde")
        pop_rate = rate(n, pops.wall)
        log(f"(a) empty pops: {fmt_rate(pop_rate)} vs baseline {fmt_rate(base_rate)}")

        # (e) first pops of a new name, empty queue.
        e_empty = await load.first_pops(horde.base, "empty")

        # (b) cycles on a shallow queue, filled in rounds.
        fills_b = Phase("(b) fills", pid)
        shallow = Phase("(b) shallow", pid)
        done_b = empty_b = filled_b = 0
        remaining = sizes.shallow_cycles
        while remaining > 0 and shallow.wall < sizes.cycle_cap_seconds:  # the cap counts cycle time only
            batch = min(args.round_size, remaining)
            filled = len(await load.fill(horde.base, batch, sizes.fill_cap_seconds, fills_b, "(b) fill"))
            if not filled:
                raise BenchError("could not queue any request for (b)")
            left = sizes.cycle_cap_seconds - shallow.wall
            d, e = await load.cycles(horde.base, filled, left, shallow, "(b) cycles")
            done_b, empty_b, filled_b, remaining = done_b + d, empty_b + e, filled_b + filled, remaining - filled
        b_rate = rate(done_b, shallow.wall)
        log(f"(b) {done_b:,} cycles in {shallow.wall:.1f} s: {fmt_rate(b_rate)} "
            f"(queue <= {args.round_size}; {empty_b} empty pops at round ends)")
        if done_b < sizes.shallow_cycles:
            notes.append(f"(b) stopped at the {sizes.cycle_cap_seconds:.0f} s cap after {done_b:,} of "
                         f"{sizes.shallow_cycles:,} cycles")

        # (d) accepted requests/s, filling the deep queue for (c).
        want = sizes.deep_waiting + sizes.deep_cycles
        fill_d = Phase("(d) async", pid)
        log(f"(d) queueing {want:,} requests ({args.keys} keys, {conc} in flight, cap {sizes.fill_cap_seconds:.0f} s)")
        finished = await load.fill(horde.base, want, sizes.fill_cap_seconds, fill_d, "(d) async")
        accepted = len(finished)
        d_rate = rate(accepted, fill_d.wall)
        if accepted >= 8:
            q = accepted // 4
            start = finished[0] - fill_d.latencies["async"][0]
            first = rate(q, finished[q - 1] - start)
            last = rate(q, finished[-1] - finished[-q - 1])
            notes.append(f"(d) accept rate over the first quarter {fmt_rate(first)}, over the last quarter "
                         f"{fmt_rate(last)} (queue 0 -> {accepted:,} waiting)")
        log(f"(d) {accepted:,} accepted in {fill_d.wall:.1f} s: {fmt_rate(d_rate)}")
        deep_cycles = sizes.deep_cycles
        if accepted < want:
            deep_cycles = max(1, min(deep_cycles, accepted // 5))
            notes.append(f"(d) filling stopped at the {sizes.fill_cap_seconds:.0f} s cap: {accepted:,} of {want:,} "
                         "requests queued")
        waiting_start = accepted + max(0, filled_b - done_b)  # (b) may have stopped at its cap mid-round
        if sizes.deep_waiting < FULL.deep_waiting:
            notes.append(f"--quick: (c) aims at {sizes.deep_waiting:,} waiting requests, not {FULL.deep_waiting:,}")

        # (c) the same cycles with the deep queue.
        deep = Phase("(c) deep", pid)
        done_c, _ = await load.cycles(horde.base, deep_cycles, sizes.cycle_cap_seconds, deep, "(c) cycles")
        c_rate = rate(done_c, deep.wall)
        waiting_end = waiting_start - done_c
        log(f"(c) {done_c:,} cycles in {deep.wall:.1f} s with {waiting_start:,} -> {waiting_end:,} waiting: "
            f"{fmt_rate(c_rate)}")
        if done_c < deep_cycles:
            notes.append(f"(c) stopped at the {sizes.cycle_cap_seconds:.0f} s cap after {done_c:,} cycles")
        if waiting_end < sizes.deep_waiting:
            notes.append(f"(c) ran with {waiting_start:,} -> {waiting_end:,} requests waiting, fewer than the "
                         f"{sizes.deep_waiting:,} asked for (filling through the API took too long)")

        # (e) again, with the deep queue (each pop also claims a job).
        e_deep = await load.first_pops(horde.base, "deep")

        code = horde.stop()
        log(f"horde stopped (exit {code})")
        if code not in (0, None):
            errors.add("horde", f"exited with {code}:\n{horde.tail()}")
        for line in horde.tail(200).splitlines():
            if " ERROR " in line or "Traceback" in line:
                errors.add("horde log", line)

    # Report.
    e_bad = [*e_empty[2], *e_deep[2]]
    for label, (_, rows, _) in (("empty queue", e_empty), ("deep queue", e_deep)):
        if rows != 1:
            errors.add(f"(e) {label}", f"{rows} worker rows for the new name (want 1)")
    for bad in e_bad:
        errors.add("(e) first pops", bad)
    e_non200 = len(e_bad)
    rows = [
        ["(a) empty pops/s (nothing queued)", fmt_rate(pop_rate), f"bare aiohttp {fmt_rate(base_rate)}",
         fmt_ratio(rate(pop_rate, base_rate)), f">= {TARGET_POP_RATIO}x",
         _met(rate(pop_rate, base_rate) >= TARGET_POP_RATIO), AI_HORDE["a"]],
        [f"(b) pop+submit cycles/s (<= {args.round_size} waiting)", fmt_rate(b_rate),
         f"target {fmt_rate(TARGET_CYCLES)}", fmt_ratio(rate(b_rate, TARGET_CYCLES)), f">= {TARGET_CYCLES:,.0f}/s",
         _met(b_rate >= TARGET_CYCLES), AI_HORDE["b"]],
        [f"(c) cycles/s, {waiting_end:,}-{waiting_start:,} waiting", fmt_rate(c_rate), f"(b) {fmt_rate(b_rate)}",
         fmt_ratio(rate(c_rate, b_rate)), f">= {TARGET_DEEP_RATIO}x",
         _met(rate(c_rate, b_rate) >= TARGET_DEEP_RATIO), AI_HORDE["c"]],
        [f"(d) requests accepted/s ({args.keys} keys)", fmt_rate(d_rate), f"target {fmt_rate(TARGET_ACCEPTED)}",
         fmt_ratio(rate(d_rate, TARGET_ACCEPTED)), f">= {TARGET_ACCEPTED:,.0f}/s",
         _met(d_rate >= TARGET_ACCEPTED), AI_HORDE["d"]],
        ["(e) non-200 of 2x32 first pops of a new name",
         f"{e_non200} ({sum(v for k, v in e_empty[0].items() if k != 200)} empty q, "
         f"{sum(v for k, v in e_deep[0].items() if k != 200)} deep q)", "target 0", "-", "0",
         _met(e_non200 == 0), AI_HORDE["e"]],
    ]
    db = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print()
    print(f"hordebot broker bench ({'quick' if args.quick else 'full'}, {db}, {conc} in flight, "
          f"{os.cpu_count()} CPUs; server and baseline in subprocesses, load from this process)")
    print(table(rows, ["figure", "measured", "baseline / target", "ratio", "target", "met", "AI Horde"]))
    print()
    print("Latencies per phase (CPU: % of one core over the measured windows; machine: % of all cores)")
    phases = [baseline, pops, fills_b, shallow, fill_d, deep]
    print(table(phase_rows(phases), ["phase", "request", "count", "p50 ms", "p99 ms", "max ms", "server CPU",
                                     "server us/req", "bench CPU", "machine"]))
    base_per, horde_per = cpu_per_request(baseline), cpu_per_request(pops)
    notes.insert(0, f"(a) server CPU per empty pop: horde {1e6 * horde_per:,.0f} us, baseline {1e6 * base_per:,.0f} us "
                    f"(baseline/horde {fmt_ratio(rate(base_per, horde_per))}); both rates share the cores with this "
                    "load generator (bench CPU column), so compare the CPU per request too")
    b_per, c_per = cpu_per_request(shallow), cpu_per_request(deep)
    notes.insert(1, f"(c) server CPU per request {1e6 * c_per:,.0f} us vs (b) {1e6 * b_per:,.0f} us (b/c "
                    f"{fmt_ratio(rate(b_per, c_per))}): steadier than the rate ratio when other processes take CPU")
    if busy_before > 0.2:
        notes.insert(0, f"the machine was already {100 * busy_before:.0f}% busy before the run (other processes): "
                        "figures are noisy")
    if args.cprofile:
        notes.append("profiled run: the server ran under cProfile, which slows it")
    for note in notes:
        print(f"note: {note}")
    return notes


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def print_profile(path: str, top: int = 35) -> None:
    import pstats

    if not Path(path).exists():
        print(f"no profile written at {path}")
        return
    for key in ("tottime", "cumulative"):
        print(f"\nserver profile, top {top} by {key} (main thread only; SQLite work runs in aiosqlite threads):")
        stats = pstats.Stats(path, stream=sys.stdout)
        stats.sort_stats(key).print_stats(top)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a ~20 s smoke run with small sizes")
    p.add_argument("--database-url", default="",
                   help="run the horde on this database (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/NAME); "
                        "default: a fresh SQLite file in a temp dir")
    p.add_argument("--postgres", action="store_true",
                   help="create the --database-url database first (default name hordebot_bench_<random> on "
                        "127.0.0.1:5432) and drop it at the end")
    p.add_argument("--concurrency", type=int, default=32, help="requests in flight (and workers); default 32")
    p.add_argument("--keys", type=int, default=4, help="requester users/keys for (d); default 4")
    p.add_argument("--round-size", type=int, default=500, help="(b) queue depth per round; default 500")
    p.add_argument("--cprofile", metavar="FILE", help="run the server under cProfile, write FILE, print the top")
    args = p.parse_args(argv)
    if args.postgres and not args.database_url:
        args.database_url = f"postgresql+asyncpg://postgres@{HOST}:5432/hordebot_bench_{uuid.uuid4().hex[:10]}"
    if args.cprofile:
        args.cprofile = os.path.abspath(args.cprofile)
    if args.concurrency < 1 or args.keys < 1 or args.round_size < 1:
        p.error("--concurrency, --keys and --round-size must be positive")
    return args


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Ctrl-C and `kill` both end the run through the cleanup below (servers stopped, temp dir removed).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    errors = Errors()
    servers: list[Server] = []
    tmp = Path(tempfile.mkdtemp(prefix="hordebot-bench-"))
    created_db = False
    try:
        if args.postgres:
            asyncio.run(pg_admin(args.database_url, "create"))
            created_db = True
            log(f"created database {_pg_parts(args.database_url)['database']}")
        asyncio.run(run(args, tmp, servers, errors))
    except BenchError as exc:
        errors.add("bench", str(exc))
    except KeyboardInterrupt as exc:
        errors.add("bench", f"interrupted ({exc or 'SIGINT'})")
    except Exception as exc:  # report anything else too, after the servers are down
        import traceback

        errors.add("bench", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    finally:
        for srv in servers:
            srv.stop()
        if created_db:
            try:
                asyncio.run(pg_admin(args.database_url, "drop"))
            except Exception as exc:
                errors.add("cleanup", f"could not drop the database: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)
    if args.cprofile:
        print_profile(args.cprofile)
    if errors:
        print("\nERRORS:")
        for key, n in errors.counts.most_common():
            print(f"  {n:>6} x {key}")
        print("samples:")
        for sample in errors.samples:
            print(f"  - {sample}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
