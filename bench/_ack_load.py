"""The load on the API while the bot is measured: requester loops and empty-pop loops, in a separate process.

A separate process by default (`LoadGenerator` re-executes `bot_ack.py --load-generator`, which calls
`load_generator_main`) so that the client side of the load does not run in the bot's event loop: that loop then
carries only what the server really does for the traffic. `--load-in-process` runs the same `run_load` as tasks in
the bot's loop instead, for comparison. Only aiohttp and `_ack_infra` are imported here: the load generator
process must start quickly and never load discord.py or the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from _ack_infra import AGENT, CHECKS_PER_REQUEST, IDLE_MODEL, LOAD_MODEL, BenchError, pct

ENTRY_POINT = Path(__file__).resolve().with_name("bot_ack.py")  # re-executed with --load-generator


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
    """The load, in a subprocess (default) or as tasks in this loop (`in_process`).

    The subprocess is `bot_ack.py --load-generator` (ENTRY_POINT), spoken to over stdin/stdout: the spec as one
    JSON line in, "ready" out, "stop" in, the result as one JSON line out; its stderr goes to a log in the temp dir
    so that a failure can quote it.
    """

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
                sys.executable, str(ENTRY_POINT), "--load-generator", cwd=self.tmp, env=env,
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
