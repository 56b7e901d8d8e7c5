"""A second instance of our own core, started in the test, plays the public horde ("the upstream"):
real HTTP, its own SQLite database and fake clock, a request log, and switchable misbehaviour (a test
double's faults: refusals, 5xx, malformed JSON, hangs, expired image links). A test GPU worker attached
to it over HTTP does the work."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image

from horde_core.api import create_app
from horde_core.clock import FakeClock
from horde_core.config import AppConfig, UpstreamSettings
from horde_core.db import Database
from horde_core.service import HordeService

Fault = Callable[[], web.StreamResponse | None]


def png_bytes(color: tuple[int, int, int] = (20, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class Public:
    """The public horde of the tests."""

    service: HordeService
    server: TestServer
    operator_key: str
    worker_key: str
    log: list[dict[str, Any]] = field(default_factory=list)
    # (method, path prefix) -> a function making the response to answer instead (a response object can be
    # sent only once), or "hang" (never answers).
    faults: dict[tuple[str, str], Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def sent(self, path: str = "/async") -> list[dict[str, Any]]:
        """Bodies of the requests the relay POSTed whose path ends with `path`."""
        return [e["body"] for e in self.log if e["method"] == "POST" and e["path"].endswith(path)]

    async def work_images(self, image: bytes | None = None, *, state: str = "ok") -> list[str]:
        """The test GPU worker: pop image jobs (one request per pop) until none is left, submit a picture."""
        done: list[str] = []
        async with aiohttp.ClientSession() as http:
            while True:
                r = await http.post(self.url("/api/v2/generate/pop"), headers={"apikey": self.worker_key},
                                    json={"name": "public gpu", "models": ["stable_diffusion"], "amount": 8,
                                          "nsfw": True, "max_pixels": 4 * 1024 * 1024})
                pop = await r.json()
                assert r.status == 200, pop
                if not pop["ids"]:
                    return done
                for job_id in pop["ids"]:
                    sub = await http.post(self.url("/api/v2/generate/submit"), headers={"apikey": self.worker_key},
                                          json={"id": job_id, "state": state, "seed": "4242",
                                                "generation": base64.b64encode(image or png_bytes()).decode()})
                    assert sub.status == 200, await sub.text()
                done.extend(pop["ids"])

    async def work_text(self, text: str = "Once upon a time, upstream.") -> list[str]:
        async with aiohttp.ClientSession() as http:
            r = await http.post(self.url("/api/v2/generate/text/pop"), headers={"apikey": self.worker_key},
                                json={"name": "public llm", "models": ["koboldcpp/tiny"], "max_length": 512,
                                      "max_context_length": 4096, "amount": 4})
            pop = await r.json()
            assert r.status == 200, pop
            ids = pop.get("ids") or ([pop["id"]] if pop.get("id") else [])
            for job_id in ids:
                sub = await http.post(self.url("/api/v2/generate/text/submit"), headers={"apikey": self.worker_key},
                                      json={"id": job_id, "generation": text, "state": "ok"})
                assert sub.status == 200, await sub.text()
            return list(ids)

    async def work_forms(self, caption: str = "a blue square") -> list[str]:
        async with aiohttp.ClientSession() as http:
            r = await http.post(self.url("/api/v2/interrogate/pop"), headers={"apikey": self.worker_key},
                                json={"name": "public alchemist", "forms": ["caption"], "amount": 4})
            pop = await r.json()
            assert r.status == 200, pop
            for form in pop["forms"]:
                sub = await http.post(self.url("/api/v2/interrogate/submit"), headers={"apikey": self.worker_key},
                                      json={"id": form["id"], "result": {"caption": caption}, "state": "ok"})
                assert sub.status == 200, await sub.text()
            return [f["id"] for f in pop["forms"]]


def _recorder(public_ref: dict[str, Public]) -> Any:
    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        public = public_ref["public"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        public.log.append({"method": request.method, "path": request.path, "body": body,
                           "headers": dict(request.headers)})
        for (method, prefix), fault in list(public.faults.items()):
            if request.method == method and request.path.startswith(prefix):
                if fault == "hang":
                    await asyncio.Event().wait()
                return fault() if callable(fault) else fault
        return await handler(request)

    return record


@pytest.fixture
async def public(tmp_path) -> AsyncIterator[Public]:  # type: ignore[no-untyped-def]
    config = AppConfig(core={"data_dir": str(tmp_path / "public")},
                       api={"requests_per_second": 1000.0, "request_burst": 1000})
    db = Database(f"sqlite:///{tmp_path}/public.db")
    await db.create_all()
    svc = HordeService(config, db, clock=FakeClock())
    await svc.bootstrap()
    _, operator_key = await svc.create_user("hordebot operator", kudos=100_000)
    _, worker_key = await svc.create_user("public gpu owner")
    ref: dict[str, Public] = {}
    app = create_app(svc, config)
    app.middlewares.append(_recorder(ref))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    config.api.public_url = str(server.make_url("")).rstrip("/")
    ref["public"] = Public(svc, server, operator_key, worker_key)
    try:
        yield ref["public"]
    finally:
        await server.close()
        await db.dispose()


def upstream_settings(public: Public, **overrides: Any) -> UpstreamSettings:
    values: dict[str, Any] = {"enabled": True, "url": public.url("/api/"), "api_key": public.operator_key,
                              "wait_seconds": 0, "stall_seconds": 120, "retry_seconds": 10, "backoff_seconds": 5,
                              "http_timeout": 5, "max_concurrent": 4, **overrides}
    return UpstreamSettings(**values)
