"""Discord bot benchmark: how fast /generate is acknowledged while the core is busy, and how often it edits progress.

Run by hand: `.venv/bin/python bench/bot_ack.py [--quick]` (about 40 s; `--quick` about 15 s).

Everything runs as in production, in ONE event loop: the real bot (`bot.create_bot` with all its extensions, driven
through the test harness `tests/bot/harness.py`: dpytest + discord.py's real CommandTree, HTTP captured), the real core
(`HordeService` on a fresh SQLite file in a temp dir) and the real HTTP API (aiohttp `TestServer` on 127.0.0.1).
A fake GPU worker task in the same loop serves the bot's jobs over HTTP (pop, upload, submit).

(1) Acknowledgement latency: N /generate interactions arrive at random (Poisson) times; for each one the bench
    takes the time from the harness dispatching INTERACTION_CREATE to the deferral (callback type 5) reaching
    discord.py's HTTP layer (`AsyncWebhookAdapter.request`). The command handler itself runs until the image is
    posted, so the moment `h.slash` returns is NOT used. Measured twice in the same run: with the core idle (only
    the bot's own worker polling) and with the core under load.
(2) Progress edits per job: a few /generate jobs that the fake worker takes EDIT_WORKER_DELAY seconds to serve,
    with the cog's edit/poll intervals shortened so edits can happen; counts from `GenerateCog.edits` (checked
    against the PATCHes the harness captured).

Load: by default a separate process (this file with `--load-generator`) hammers the API with keep-alive aiohttp
connections: requester loops (POST /generate/async for a model nobody serves, GET /generate/check twice, DELETE
/generate/status to cancel: the queue stays shallow) and worker loops (POST /generate/pop for a model nobody
requests: every pop is empty). A separate process so the client side does not run in the bot's loop: the loop
then carries only what the server really does for that traffic. `--load-in-process` runs the same loops as
tasks in the bot's loop instead, for comparison (the client work then adds to the loop's latency).

Timings are reported, never asserted: the exit status is 1 only when something errored.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import json
import math
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.dont_write_bytecode = True  # leave no __pycache__ behind in the repository
SCRIPT = Path(__file__).resolve()
REPO = SCRIPT.parent.parent
HOST = "127.0.0.1"
AGENT = "hordebot-bench:1:local"
MODEL = "stable_diffusion"  # the bot's jobs; served by the fake worker
LOAD_MODEL = "bench_unserved_model"  # what the load asks for; nobody serves it, requests wait until cancelled
IDLE_MODEL = "bench_idle_model"  # what the load's workers serve; nobody asks for it, every pop is empty

DISCORD_DEADLINE_MS = 3000.0
TARGET_P99_MS = 100.0
EDIT_INTERVAL = 0.5  # the cog's default is 5 s
EDIT_WORKER_DELAY = 2.0
WORKER_IDLE_SLEEP = 0.05  # the fake worker pops 20 times a second when there is nothing to do
CHECKS_PER_REQUEST = 2


@dataclass(frozen=True)
class Sizes:
    interactions: int
    arrivals_per_second: float
    edit_jobs: int
    warmup: float
    cap: float  # the whole run is cancelled (and reported as an error) after this many seconds


FULL = Sizes(interactions=300, arrivals_per_second=30.0, edit_jobs=8, warmup=2.0, cap=110.0)
QUICK = Sizes(interactions=60, arrivals_per_second=30.0, edit_jobs=3, warmup=0.7, cap=27.0)


class BenchError(Exception):
    pass


class Errors:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.samples: list[str] = []

    def add(self, where: str, what: str) -> None:
        key = f"{where}: {what.splitlines()[0][:100] if what else ''}"
        self.counts[key] += 1
        if self.counts[key] <= 3 and len(self.samples) < 40:
            self.samples.append(f"{where}: {what if len(what) <= 3000 else '...' + what[-3000:]}")

    def __bool__(self) -> bool:
        return bool(self.counts)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- numbers ---------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{1000 * seconds:.1f}"


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def _proc_cpu(pid: int | None) -> float:
    """CPU seconds (user + system, all threads) of a live process, from /proc."""
    if pid is None:
        return math.nan
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
class CpuWindow:
    """CPU use of this process, of the load process and of the machine over one measured window."""

    load_pid: int | None = None
    wall: float = 0.0
    bench: float = 0.0
    load: float = math.nan
    machine: float = math.nan
    _mark: tuple[float, float, float, float, float] = (0.0, 0.0, 0.0, 0.0, 0.0)

    def begin(self) -> None:
        busy, total = _machine_cpu()
        self._mark = (time.perf_counter(), time.process_time(), _proc_cpu(self.load_pid), busy, total)

    def end(self) -> None:
        t0, b0, l0, busy0, total0 = self._mark
        busy, total = _machine_cpu()
        self.wall = time.perf_counter() - t0
        self.bench = time.process_time() - b0
        self.load = _proc_cpu(self.load_pid) - l0
        self.machine = (busy - busy0) / (total - total0) if total > total0 else math.nan

    def share(self, seconds: float) -> str:
        return "n/a" if math.isnan(seconds) or self.wall <= 0 else f"{100 * seconds / self.wall:.0f}%"


# --- the load (runs in its own process by default) -------------------------------------------------


def _dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


LOAD_REQUEST = _dumps({"prompt": "a lighthouse at dusk, oil painting ### blurry", "models": [LOAD_MODEL],
                       "params": {"width": 512, "height": 512, "steps": 20, "n": 1, "sampler_name": "k_euler_a",
                                  "cfg_scale": 7.0},
                       "nsfw": False, "censor_nsfw": False, "r2": True, "shared": False})


def _load_pop_body(name: str) -> bytes:
    return _dumps({"name": name, "models": [IDLE_MODEL], "max_pixels": 1024 * 1024, "amount": 1, "threads": 1,
                   "nsfw": False, "bridge_agent": AGENT, "allow_img2img": True, "allow_painting": True,
                   "allow_post_processing": True, "allow_unsafe_ipaddr": True})


async def run_load(spec: dict[str, Any], stop: asyncio.Event, ready: Callable[[], None]) -> dict[str, Any]:
    """Hammer the API until `stop` is set: `clients` requester loops and `pollers` empty-pop loops, no pauses.

    Returns counts, latencies (p50/p99 ms) and errors per request kind. `ready` is called once every kind of
    request has been answered successfully.
    """
    base, keys, worker_key = spec["base"], spec["request_keys"], spec["worker_key"]
    lat: dict[str, list[float]] = {"async": [], "check": [], "cancel": [], "pop (empty)": []}
    errors: Counter[str] = Counter()
    signalled = False

    def note_ok() -> None:
        nonlocal signalled
        if not signalled and all(lat.values()):
            signalled = True
            ready()

    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:

        async def call(kind: str, method: str, url: str, key: str, body: bytes | None = None) -> tuple[int, bytes]:
            hdrs = {"apikey": key, "Client-Agent": AGENT, "Content-Type": "application/json"}
            t = time.perf_counter()
            try:
                async with http.request(method, url, data=body, headers=hdrs) as r:
                    data = await r.read()
                    status = r.status
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                errors[f"{kind}: {type(exc).__name__}: {exc}"[:200]] += 1
                await asyncio.sleep(0.05)
                return -1, b""
            lat[kind].append(time.perf_counter() - t)
            return status, data

        def bad(kind: str, status: int, data: bytes) -> None:
            if status != -1:
                errors[f"{kind}: HTTP {status}: {data[:200]!r}"] += 1

        async def requester(i: int) -> None:
            key = keys[i % len(keys)]
            while not stop.is_set():
                status, data = await call("async", "POST", f"{base}/api/v2/generate/async", key, LOAD_REQUEST)
                if status != 202:
                    bad("async", status, data)
                    await asyncio.sleep(0.05)
                    continue
                rid = json.loads(data)["id"]
                for _ in range(CHECKS_PER_REQUEST):
                    status, data = await call("check", "GET", f"{base}/api/v2/generate/check/{rid}", key)
                    if status != 200:
                        bad("check", status, data)
                status, data = await call("cancel", "DELETE", f"{base}/api/v2/generate/status/{rid}", key)
                if status != 200:
                    bad("cancel", status, data)
                note_ok()

        async def poller(i: int) -> None:
            body = _load_pop_body(f"bench-load-worker-{i:02d}")
            while not stop.is_set():
                status, data = await call("pop (empty)", "POST", f"{base}/api/v2/generate/pop", worker_key, body)
                if status != 200:
                    bad("pop (empty)", status, data)
                elif json.loads(data).get("id") is not None:
                    errors["pop (empty): a pop returned a job"] += 1
                note_ok()

        t0 = time.perf_counter()
        tasks = [asyncio.create_task(requester(i)) for i in range(spec["clients"])]
        tasks += [asyncio.create_task(poller(i)) for i in range(spec["pollers"])]
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
    return {"elapsed": elapsed, "errors": dict(errors),
            "kinds": {k: {"count": len(v), "p50": pct(v, 0.5), "p99": pct(v, 0.99)} for k, v in lat.items()}}


def load_generator_main() -> int:
    """`bot_ack.py --load-generator`: read the spec (one JSON line) on stdin, print "ready", run until "stop"
    (or EOF, or the spec's max_seconds), print the result as one JSON line."""
    spec = json.loads(sys.stdin.readline())

    async def go() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        def watch_stdin() -> None:  # a daemon thread: it never holds the process open
            sys.stdin.readline()
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch_stdin, daemon=True).start()
        loop.call_later(spec["max_seconds"], stop.set)
        return await run_load(spec, stop, lambda: print("ready", flush=True))

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    result = asyncio.run(go())
    print(json.dumps(result), flush=True)
    return 0


def _open_log(path: Path) -> Any:
    return open(path, "wb")  # the caller closes it once the child has it


class LoadGenerator:
    """The load, in a subprocess (default) or as tasks in this loop (`in_process`)."""

    def __init__(self, spec: dict[str, Any], *, in_process: bool, tmp: Path) -> None:
        self.spec, self.in_process, self.tmp = spec, in_process, tmp
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr_path = tmp / "load-generator.log"
        self._stop = asyncio.Event()
        self._task: asyncio.Task[dict[str, Any]] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    async def start(self) -> None:
        if self.in_process:
            ready = asyncio.Event()
            self._task = asyncio.create_task(run_load(self.spec, self._stop, ready.set))
            await self._wait(ready.wait())
            return
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        err = _open_log(self.stderr_path)  # a local file in the temp dir
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, str(SCRIPT), "--load-generator", cwd=self.tmp, env=env,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err)
        finally:
            err.close()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(_dumps(self.spec) + b"\n")
        await self.proc.stdin.drain()
        line = await self._wait(self.proc.stdout.readline())
        if line.strip() != b"ready":
            raise BenchError(f"the load generator did not start: {line[:300]!r}\n{self.tail()}")

    async def _wait(self, aw: Any, within: float = 20.0) -> Any:
        try:
            return await asyncio.wait_for(aw, timeout=within)
        except TimeoutError:
            raise BenchError(f"the load generator did not answer within {within:.0f} s\n{self.tail()}") from None

    async def stop(self) -> dict[str, Any]:
        if self.in_process:
            self._stop.set()
            assert self._task is not None
            return await self._wait(self._task)
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(b"stop\n")
        await self.proc.stdin.drain()
        line = await self._wait(self.proc.stdout.readline())
        code = await self._wait(self.proc.wait())
        if code != 0 or not line.strip():
            raise BenchError(f"the load generator exited with {code}\n{self.tail()}")
        return json.loads(line)

    async def kill(self) -> None:
        """Cleanup after an error: end whatever still runs."""
        self._stop.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    def tail(self) -> str:
        try:
            return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""


# --- the bot's fake GPU worker ---------------------------------------------------------------------


def _webp() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 40)).save(buf, format="WEBP")
    return buf.getvalue()


class DelayedWorker:
    """Like tests/bot/test_generate.py's FakeWorker, but always on: pops over HTTP, and serves each job after
    `delay` seconds (a solid-colour WebP uploaded, then submitted), several jobs at a time."""

    def __init__(self, base: str, key: str, errors: Errors, name: str = "Bench GPU") -> None:
        self.base, self.key, self.errors, self.name = base, key, errors, name
        self.delay = 0.0
        self.served = 0
        self.first_pop = asyncio.Event()
        self._jobs: set[asyncio.Task[None]] = set()
        self._image = _webp()

    async def run(self, stop: asyncio.Event) -> None:
        body = {"name": self.name, "models": [MODEL], "max_pixels": 2048 * 2048, "allow_img2img": True,
                "nsfw": False, "threads": 8}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            while not stop.is_set():
                try:
                    async with http.post(f"{self.base}/api/v2/generate/pop", headers={"apikey": self.key},
                                         json=body) as r:
                        pop = await r.json() if r.status == 200 else None
                        if pop is None:
                            self.errors.add("worker pop", f"HTTP {r.status}: {(await r.text())[:300]}")
                except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                    self.errors.add("worker pop", f"{type(exc).__name__}: {exc}")
                    pop = None
                self.first_pop.set()
                if not pop or not pop.get("id"):
                    await asyncio.sleep(WORKER_IDLE_SLEEP)
                    continue
                task = asyncio.create_task(self._serve(http, pop, self.delay))
                self._jobs.add(task)
                task.add_done_callback(self._jobs.discard)
            if self._jobs:
                await asyncio.gather(*self._jobs)

    async def _serve(self, http: aiohttp.ClientSession, pop: dict[str, Any], delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            for job_id, url in zip(pop["ids"], pop["r2_uploads"]):
                async with http.put(url, data=self._image) as r:
                    if r.status != 200:
                        self.errors.add("worker upload", f"HTTP {r.status}: {(await r.text())[:300]}")
                async with http.post(f"{self.base}/api/v2/generate/submit", headers={"apikey": self.key},
                                     json={"id": job_id, "generation": "R2", "state": "ok"}) as r:
                    if r.status != 200:
                        self.errors.add("worker submit", f"HTTP {r.status}: {(await r.text())[:300]}")
                self.served += 1
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self.errors.add("worker serve", f"{type(exc).__name__}: {exc}")


# --- loop lag --------------------------------------------------------------------------------------


class LagProbe:
    """Sleeps 10 ms at a time and records how late it wakes up: the event loop's own latency."""

    PERIOD = 0.01

    def __init__(self) -> None:
        self.samples: list[float] | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            t = time.perf_counter()
            await asyncio.sleep(self.PERIOD)
            if self.samples is not None:
                self.samples.append(max(0.0, time.perf_counter() - t - self.PERIOD))


class GcWatch:
    """Times the interpreter's full (generation 2) garbage collections: each one stops the loop."""

    def __init__(self) -> None:
        self.samples: list[float] | None = None
        self._t = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._t = time.perf_counter()
        elif self.samples is not None:
            self.samples.append(time.perf_counter() - self._t)

    def install(self) -> None:
        gc.callbacks.append(self)

    def remove(self) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self)


# --- the harness, timed ----------------------------------------------------------------------------


def timed_harness_class() -> Any:
    """A DiscordHarness that timestamps each dispatch and each interaction callback as it reaches the HTTP layer.

    Imported lazily: the load generator process never loads discord.py.
    """
    from tests.bot.harness import DiscordHarness

    class TimedHarness(DiscordHarness):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.dispatched: dict[str, float] = {}  # token -> perf_counter when the harness dispatched it
            self.acked: dict[str, tuple[float, int | None]] = {}  # token -> (perf_counter, callback type)

        async def dispatch(self, payload: dict[str, Any], **kwargs: Any) -> Any:
            self.dispatched[str(payload["token"])] = time.perf_counter()
            return await super().dispatch(payload, **kwargs)

        async def _handle_route(self, route: Any, body: Any, files: Any, params: Any, *, via: str) -> Any:
            if route.path.endswith("/callback") and route.path.startswith("/interactions/"):
                kind = body.get("type") if isinstance(body, dict) else None
                self.acked.setdefault(str(route.webhook_token), (time.perf_counter(), kind))
            return await super()._handle_route(route, body, files, params, via=via)

    return TimedHarness


# --- phases ----------------------------------------------------------------------------------------


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
        saved = (self.cog.edit_interval, self.cog.poll_interval, self.worker.delay)
        self.cog.edit_interval = self.cog.poll_interval = EDIT_INTERVAL
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
            result.jobs.append(Job(rid, self.cog.edits.get(rid, 0), patches, done - acked))

        try:
            tasks = []
            for _ in range(sizes.edit_jobs):
                tasks.append(asyncio.create_task(one()))
                await asyncio.sleep(0.15)
            await asyncio.gather(*tasks)
        finally:
            self.cog.edit_interval, self.cog.poll_interval, self.worker.delay = saved
        return result


# --- the run ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, sizes: Sizes, tmp: Path, errors: Errors) -> None:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    for key in [k for k in os.environ if k.upper().startswith("HORDE_")]:
        os.environ.pop(key)  # the bench's own configuration only
    from aiohttp.test_utils import TestServer

    from bot import create_bot
    from horde_core.api import create_app
    from horde_core.config import AppConfig
    from horde_core.db import Database
    from horde_core.service import HordeService

    busy0, total0 = _machine_cpu()
    await asyncio.sleep(0.5)
    busy1, total1 = _machine_cpu()
    busy_before = (busy1 - busy0) / (total1 - total0) if total1 > total0 else math.nan
    log(f"machine {100 * busy_before:.0f}% busy before the run ({os.cpu_count()} CPUs)")

    config = AppConfig(core={"data_dir": str(tmp / "data"), "default_concurrency": 100_000},
                       api={"requests_per_second": 1_000_000.0, "request_burst": 1_000_000},
                       bot={"starting_kudos": 1_000_000_000})
    config.bot.members_intent = True  # dpytest keeps its members through this intent
    db = Database(f"sqlite:///{tmp}/horde.db")
    stop = asyncio.Event()
    background: list[asyncio.Task[None]] = []
    server = h = load = None
    gcw = GcWatch()
    gcw.install()
    try:
        await db.create_all()
        service = HordeService(config, db)
        await service.bootstrap()
        server = TestServer(create_app(service, config), host=HOST, port=0)
        await server.start_server()
        config.api.public_url = str(server.make_url("")).rstrip("/")
        base = config.api.public_url

        bot = create_bot(config, service, sharded=False, sync_commands=False)
        h = await timed_harness_class().create(bot, members=5, max_wait=60.0)
        cog = bot.get_cog("Generate")
        if cog is None:
            raise BenchError("the Generate cog is not loaded")

        _, gpu_key = await service.create_user("bench-gpu")
        worker = DelayedWorker(base, gpu_key, errors)
        probe = LagProbe()
        background += [asyncio.create_task(worker.run(stop)), asyncio.create_task(probe.run(stop))]
        await asyncio.wait_for(worker.first_pop.wait(), timeout=10)
        _, load_gpu_key = await service.create_user("bench-load-gpu")
        load_keys = [(await service.create_user(f"bench-load-{i}", kudos=1_000_000_000, concurrency=10_000_000))[1]
                     for i in range(args.keys)]
        spec = {"base": base, "request_keys": load_keys, "worker_key": load_gpu_key, "clients": args.clients,
                "pollers": args.pollers, "max_seconds": sizes.cap + 10}
        bench = Bench(h, cog, worker, probe, gcw, errors)
        log(f"bot, core and API up ({base}); {sizes.interactions} /generate per phase at "
            f"~{sizes.arrivals_per_second:.0f}/s (Poisson arrivals)")

        # warm-up: first calls import and cache things that would otherwise land on the first measurements
        for _ in range(3):
            await bench.generate("warm-up", max_wait=30.0)

        idle = await bench.ack_phase("idle core", sizes, None)
        log(f"idle core: {len(idle.dispatch_to_ack)} acks, p99 {ms(pct(idle.dispatch_to_ack, 0.99))} ms")
        idle_edits = await bench.edits_phase("idle core", sizes)
        log(f"idle core: {len(idle_edits.jobs)} jobs with progress edits")

        where = "in this process's loop" if args.load_in_process else "a subprocess"
        load = LoadGenerator(spec, in_process=args.load_in_process, tmp=tmp)
        await load.start()
        log(f"load running ({where}: {args.clients} requester + {args.pollers} empty-pop loops); "
            f"{sizes.warmup:.1f} s warm-up")
        await asyncio.sleep(sizes.warmup)
        loaded = await bench.ack_phase("core under load", sizes, load.pid)
        log(f"under load: {len(loaded.dispatch_to_ack)} acks, p99 {ms(pct(loaded.dispatch_to_ack, 0.99))} ms")
        loaded_edits = await bench.edits_phase("core under load", sizes)
        log(f"under load: {len(loaded_edits.jobs)} jobs with progress edits")
        load_stats = await load.stop()
        load = None
        for what, n in load_stats["errors"].items():
            for _ in range(min(n, 3)):
                errors.add("load", f"{what} (x{n})")
        for err in h.background_errors:
            errors.add("bot (background)", repr(err))

        report(args, sizes, [idle, loaded], [idle_edits, loaded_edits], load_stats, busy_before)
    finally:
        stop.set()
        if load is not None:
            await load.kill()
        if background:
            await asyncio.wait(background, timeout=10)
            for task in background:
                if not task.done():
                    task.cancel()
                elif not task.cancelled() and task.exception() is not None:
                    errors.add("background task", repr(task.exception()))
        if h is not None:
            await h.close()
        if server is not None:
            await server.close()
        await db.dispose()
        gcw.remove()


def report(args: argparse.Namespace, sizes: Sizes, acks: list[AckResult], edits: list[EditsResult],
           load: dict[str, Any], busy_before: float) -> None:
    where = "as tasks in the bot's loop" if args.load_in_process else "from a separate process"
    print()
    print(f"hordebot bot ack bench ({'quick' if args.quick else 'full'}, SQLite, {os.cpu_count()} CPUs; bot, core "
          f"and API in one loop in this process, load {where})")
    print()
    print("(1) /generate acknowledgement: harness dispatches INTERACTION_CREATE -> deferral (type 5) reaches "
          "discord.py's HTTP layer")
    rows = []
    for r in acks:
        d, a = r.dispatch_to_ack, r.arrival_to_ack
        rows.append([r.name, f"{len(d)}", ms(pct(d, 0.5)), ms(pct(d, 0.95)), ms(pct(d, 0.99)),
                     ms(max(d, default=math.nan)), ms(pct(a, 0.5)), ms(pct(a, 0.99)), ms(max(a, default=math.nan))])
    print(table(rows, ["phase", "acks", "p50 ms", "p95 ms", "p99 ms", "max ms", "arrival->ack p50", "p99", "max"]))
    p99 = pct(acks[-1].dispatch_to_ack, 0.99)
    met = "n/a" if math.isnan(p99) else ("yes" if p99 < TARGET_P99_MS / 1000 else "NO")
    print(f"target under load: p99 < {TARGET_P99_MS:.0f} ms (Discord's deadline: {DISCORD_DEADLINE_MS:.0f} ms) "
          f"-> {ms(p99)} ms, met: {met}")
    print()
    print("While measuring (1): the loop, the garbage collector and the CPUs")
    rows = []
    for r in acks:
        rows.append([r.name, f"{r.wall_to_last_result:.1f}", f"{r.max_in_flight}", ms(pct(r.lag, 0.5)),
                     ms(pct(r.lag, 0.99)), ms(max(r.lag, default=math.nan)),
                     f"{len(r.gc_pauses)} / {ms(max(r.gc_pauses, default=math.nan))}", r.cpu.share(r.cpu.bench),
                     r.cpu.share(r.cpu.load), "n/a" if math.isnan(r.cpu.machine) else f"{100 * r.cpu.machine:.0f}%"])
    print(table(rows, ["phase", "window s", "handlers", "loop lag p50 ms", "p99", "max", "full GCs / max ms",
                       "bot CPU", "load CPU", "machine"]))
    print()
    elapsed = load["elapsed"]
    print(f"Load {where} ({args.clients} requester loops over {args.keys} keys: async + {CHECKS_PER_REQUEST} "
          f"checks + cancel; {args.pollers} empty-pop loops), {elapsed:.1f} s including the edits phase:")
    rows = [[kind, f"{k['count']:,}", f"{k['count'] / elapsed:,.0f}/s" if elapsed > 0 else "n/a",
             ms(k["p50"]), ms(k["p99"])] for kind, k in load["kinds"].items()]
    total = sum(k["count"] for k in load["kinds"].values())
    rows.append(["all", f"{total:,}", f"{total / elapsed:,.0f}/s" if elapsed > 0 else "n/a", "", ""])
    print(table(rows, ["request", "count", "rate", "p50 ms", "p99 ms"]))
    print()
    print(f"(2) progress edits per job: cog.edit_interval = cog.poll_interval = {EDIT_INTERVAL} s (default 5 s), "
          f"the fake worker serves each job {EDIT_WORKER_DELAY} s after popping it")
    rows = []
    for e in edits:
        counts = [j.cog_edits for j in e.jobs]
        served = [j.served_in for j in e.jobs]
        cap = [1 + math.floor(j.served_in / EDIT_INTERVAL) for j in e.jobs]
        agree = all(j.cog_edits == j.patches for j in e.jobs)
        rows.append([e.name, f"{len(e.jobs)}", f"{min(counts, default=0)}",
                     f"{statistics.median(counts):g}" if counts else "n/a", f"{max(counts, default=0)}",
                     f"{sum(counts)}", " ".join(str(c) for c in counts),
                     f"{statistics.median(served):.2f}" if served else "n/a",
                     f"{statistics.median(cap):g}" if cap else "n/a", "yes" if agree else "NO"])
    print(table(rows, ["phase", "jobs", "min", "median", "max", "total", "per job", "ack->result s (median)",
                       "interval cap (median)", "cog == PATCHes"]))
    print()
    notes = [
        "dispatch->ack excludes the network: on Discord the gateway delivery and the callback's HTTP round trip "
        "also count against the 3 s deadline",
        "arrival->ack adds the wait from the scheduled arrival until the loop ran the dispatch (like a gateway "
        "event waiting to be read); loop lag: how late a 10 ms sleep wakes up",
        "handlers: most /generate handlers in flight at once (each waits for its image); the idle phase still has "
        f"the bot's own jobs and its fake worker popping every {1000 * WORKER_IDLE_SLEEP:.0f} ms; window: first "
        "arrival to last image posted; CPU: % of one core (bot = this whole process: bot, core, API, SQLite), "
        "machine: % of all cores",
        "full GCs: generation-2 collections during the window; each one stops the loop for its duration",
        "edits: the cog edits the progress message only when its text changes and at most every edit_interval; "
        "'interval cap' = 1 + floor(ack->result / edit_interval), the most the interval alone would allow",
    ]
    if args.quick:
        notes.append(f"--quick: {sizes.interactions} interactions per phase, so p99 is close to the max")
    if busy_before > 0.2:
        notes.insert(0, f"the machine was already {100 * busy_before:.0f}% busy before the run: figures are noisy")
    for note in notes:
        print(f"note: {note}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a ~15 s smoke run with fewer interactions")
    p.add_argument("--interactions", type=int, default=0, help="/generate interactions per phase (default 300, "
                                                               "60 with --quick)")
    p.add_argument("--clients", type=int, default=16, help="requester loops of the load (default 16)")
    p.add_argument("--pollers", type=int, default=8, help="empty-pop loops of the load (default 8)")
    p.add_argument("--keys", type=int, default=4, help="requester users/keys of the load (default 4)")
    p.add_argument("--load-in-process", action="store_true",
                   help="run the load as tasks in the bot's own loop instead of a separate process")
    p.add_argument("--load-generator", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if min(args.clients, args.keys) < 1 or args.pollers < 0 or args.interactions < 0:
        p.error("--clients and --keys must be positive, --pollers and --interactions not negative")
    return args


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.load_generator:
        return load_generator_main()
    sizes = QUICK if args.quick else FULL
    if args.interactions:
        sizes = Sizes(args.interactions, sizes.arrivals_per_second, sizes.edit_jobs, sizes.warmup,
                      sizes.cap + 3 * args.interactions / sizes.arrivals_per_second)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    errors = Errors()
    tmp = Path(tempfile.mkdtemp(prefix="hordebot-bench-bot-"))
    started = time.perf_counter()

    async def bounded() -> None:
        try:
            await asyncio.wait_for(run(args, sizes, tmp, errors), timeout=sizes.cap)
        except TimeoutError:
            raise BenchError(f"the run did not finish within its {sizes.cap:.0f} s cap") from None

    try:
        asyncio.run(bounded())
    except BenchError as exc:
        errors.add("bench", str(exc))
    except KeyboardInterrupt as exc:
        errors.add("bench", f"interrupted ({exc or 'SIGINT'})")
    except Exception as exc:
        import traceback

        errors.add("bench", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"done in {time.perf_counter() - started:.0f} s")
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
