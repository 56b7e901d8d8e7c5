"""Bench plumbing: sizes, servers in subprocesses, users, request bodies, CPU accounting."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
from _cpu import machine_cpu, proc_cpu

REPO = Path(__file__).resolve().parent.parent
MAIN = REPO / "main.py"
HOST = "127.0.0.1"
AGENT = "hordebot-bench:1:local"

# The AI Horde server itself, measured on this machine (from the issue).
AI_HORDE = {"a": "~60/s", "b": "13/s", "c": "4/s", "d": "26/s", "e": "-", "f": "-"}
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
        busy, total = machine_cpu()
        server = proc_cpu(self.server_pid) if self.server_pid else math.nan
        self._mark = (time.perf_counter(), server, time.process_time(), busy, total)

    def end(self) -> float:
        """Close a window; returns its wall time."""
        assert self._mark is not None
        t0, s0, b0, busy0, total0 = self._mark
        busy, total = machine_cpu()
        wall = time.perf_counter() - t0
        self.wall += wall
        if self.server_pid:
            self.server_cpu += proc_cpu(self.server_pid) - s0
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


@cache
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


def image_submit_body(job_id: str) -> bytes:
    return dumps({"id": job_id, "generation": tiny_webp_b64(), "state": "ok", "seed": "1234"})


@dataclass(frozen=True)
class Flow:
    """One job type's endpoints and bodies, so the same load loops drive image and text jobs."""

    async_path: str
    pop_path: str
    submit_path: str
    request_body: bytes
    pop_body: Callable[[str], bytes]  # worker name -> pop body
    submit_body: Callable[[str], bytes]  # job id -> submit body
    worker_prefix: str
    label: str = ""  # prefixed to the latency labels ("async", "pop (job)", "submit")


IMAGE = Flow("/api/v2/generate/async", "/api/v2/generate/pop", "/api/v2/generate/submit", REQUEST_BODY, pop_body,
             image_submit_body, "bench-worker-")
