"""What shares the bot's event loop during a run: the core, the API and the bot themselves, a fake GPU worker
serving the bot's jobs, and the probes that time the loop's lag and the garbage collector's pauses.

Everything here runs in the bench process only. The app (core, bot, test harness, PIL) is imported inside the
functions that need it, not at the top: `bot_ack.py --load-generator` imports this module too (through the entry
point) and must not load discord.py or the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from _ack_infra import HOST, MODEL, WORKER_IDLE_SLEEP, BenchError, Errors

REPO = Path(__file__).resolve().parent.parent


# --- the bot, the core and the API -----------------------------------------------------------------


@dataclass
class World:
    """The real core, HTTP API and bot of one run, as `open_world` built them."""

    service: Any  # horde_core.service.HordeService on a fresh SQLite file
    base: str  # the API's URL (aiohttp TestServer on 127.0.0.1)
    h: Any  # the TimedHarness driving the bot
    cog: Any  # the bot's Generate cog


@contextlib.asynccontextmanager
async def open_world(tmp: Path) -> AsyncIterator[World]:
    """Build the core (SQLite in `tmp`), its API and the bot behind a TimedHarness, all in this loop as in
    production; on the way out close the harness, the server and the database, in that order.

    Limits are lifted (rate limits, concurrency, kudos) so that the bench measures the loop, not the policies.
    """
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

    config = AppConfig(core={"data_dir": str(tmp / "data"), "default_concurrency": 100_000},
                       api={"requests_per_second": 1_000_000.0, "request_burst": 1_000_000},
                       bot={"starting_kudos": 1_000_000_000})
    config.bot.members_intent = True  # dpytest keeps its members through this intent
    db = Database(f"sqlite:///{tmp}/horde.db")
    server = h = None
    try:
        await db.create_all()
        service = HordeService(config, db)
        await service.bootstrap()
        server = TestServer(create_app(service, config), host=HOST, port=0)
        await server.start_server()
        config.api.public_url = str(server.make_url("")).rstrip("/")

        bot = create_bot(config, service, sharded=False, sync_commands=False)
        h = await timed_harness_class().create(bot, members=5, max_wait=60.0)
        cog = bot.get_cog("Generate")
        if cog is None:
            raise BenchError("the Generate cog is not loaded")
        yield World(service, config.api.public_url, h, cog)
    finally:
        if h is not None:
            await h.close()
        if server is not None:
            await server.close()
        await db.dispose()


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


@contextlib.asynccontextmanager
async def bot_on_fresh_core(max_wait: float = 30.0) -> AsyncIterator[tuple[Any, Any, Any]]:
    """(db, service, harness): the real bot (all its extensions) through the timed harness on a fresh SQLite core
    in a temp dir, without the HTTP API (the autocomplete benches need none); closed and removed after."""
    import tempfile

    from bot import create_bot
    from horde_core.config import AppConfig
    from horde_core.db import Database
    from horde_core.service import HordeService

    with tempfile.TemporaryDirectory(prefix="hordebot-bench-") as tmp:
        config = AppConfig(core={"data_dir": f"{tmp}/data"})
        config.bot.members_intent = True
        db = Database(f"sqlite:///{tmp}/horde.db")
        await db.create_all()
        service = HordeService(config, db)
        await service.bootstrap()
        h = await timed_harness_class().create(create_bot(config, service, sharded=False, sync_commands=False),
                                               members=3, max_wait=max_wait)
        try:
            yield db, service, h
        finally:
            await h.close()
            await db.dispose()
