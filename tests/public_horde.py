"""A second instance of our own core, started in the test, plays the public horde ("the upstream"):
real HTTP, its own SQLite database, the test's fake clock, a request log, and switchable misbehaviour (a
test double's faults: refusals, 5xx, malformed JSON, hangs, expired image links). A test GPU worker
attached to it over HTTP does the work.

On top of our core it behaves like the public AI Horde (5.1.5) where the relay's safety depends on it
(see `PublicRules`): a prompt its own filter refuses gets 400 `CorruptPrompt` and puts the sender in
timeout (3, 9, 15 ... minutes); while in timeout every generation request gets 403 `TimeoutIP` with the
remaining seconds in its message; the sender is the connecting address, or the `Proxied-For` value when
`Proxy-Authorization` carries the service account's passkey; a service account generates that passkey
with `PUT /v2/users/{id}` `{"generate_proxy_passkey": true}`, and `find_user` says `service`."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import secrets
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


# What the public horde answers, word for word (AI-Horde's `horde/exceptions.py`: behaviour only).
CORRUPT_PROMPT = ("This prompt appears to violate our terms of service and will be reported. Please contact us if "
                  "you think this is an error.")
TIMEOUT_IP = ("Due to abuse prevention, your IP address has been put into timeout for {ttl} more seconds. Please "
              "try again later, or contact us on discord if you think this was an error.")
SUSPICION_MEMORY = 86400.0  # the public horde remembers an address's suspicion for a day


@dataclass
class PublicRules:
    """The public AI Horde's countermeasures, as far as the relay meets them. `refused_words`: prompts its
    filter refuses although ours lets them pass (its filter is not ours)."""

    clock: FakeClock
    service_account: bool = True
    proxy_passkey: str = ""
    refused_words: tuple[str, ...] = ("forbiddenword",)
    timeouts: dict[str, float] = field(default_factory=dict)  # sender -> in timeout until
    suspicion: dict[str, list[float]] = field(default_factory=dict)  # sender -> times of its refusals

    def sender(self, request: web.Request) -> str:
        """Whom the public horde holds to account: `Proxied-For` only with the right passkey."""
        passkey = request.headers.get("Proxy-Authorization", "")
        if passkey and self.proxy_passkey and passkey == self.proxy_passkey:
            return request.headers.get("Proxied-For", "") or str(request.remote)
        return str(request.remote)

    def remaining(self, sender: str) -> int:
        return max(0, int(self.timeouts.get(sender, 0.0) - self.clock.now()))

    def refuse(self, sender: str) -> int:
        """A refused prompt: the sender goes into timeout, longer each time within a day; its seconds."""
        now = self.clock.now()
        recent = [t for t in self.suspicion.get(sender, []) if t > now - SUSPICION_MEMORY]
        minutes = (2 * len(recent) + 1) * 3
        self.suspicion[sender] = [*recent, now]
        self.timeouts[sender] = now + minutes * 60
        return minutes * 60

    def timed_out(self) -> list[str]:
        return sorted(s for s in self.timeouts if self.remaining(s) > 0)


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
    rules: PublicRules = field(default_factory=lambda: PublicRules(FakeClock()))
    operator_id: int = 0

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
        return await _as_the_public_horde(public, request, body, handler)

    return record


async def _as_the_public_horde(public: Public, request: web.Request, body: Any, handler: Any) -> web.StreamResponse:
    """What the public AI Horde does before and beside our core's handlers (see the module's docstring)."""
    rules = public.rules
    operator = request.headers.get("apikey") == public.operator_key
    body = body if isinstance(body, dict) else {}
    if request.method == "POST" and request.path in ("/api/v2/generate/async", "/api/v2/generate/text/async"):
        if body.get("proxied_account") and operator and not rules.service_account:
            return web.json_response({"message": "Only service accounts can provide a proxied_account value.",
                                      "rc": "OnlyServiceAccountProxy"}, status=400)
        sender = rules.sender(request)
        if rules.remaining(sender):
            return web.json_response({"message": TIMEOUT_IP.format(ttl=rules.remaining(sender)), "rc": "TimeoutIP"},
                                     status=403)
        prompt = str(body.get("prompt") or "").lower()
        if request.path == "/api/v2/generate/async" and any(w in prompt for w in rules.refused_words):
            rules.refuse(sender)
            return web.json_response({"message": CORRUPT_PROMPT, "rc": "CorruptPrompt"}, status=400)
    if request.method == "PUT" and request.path == f"/api/v2/users/{public.operator_id}":
        if not operator:
            return web.json_response({"message": "Invalid API Key", "rc": "InvalidAPIKey"}, status=401)
        if body.get("generate_proxy_passkey"):
            if not rules.service_account:
                return web.json_response({"message": "Only Service Accounts can set a proxy passkey",
                                          "rc": "NonServiceForbidden"}, status=403)
            rules.proxy_passkey = secrets.token_hex(8)  # 16 characters, as the public horde's
            return web.json_response({"proxy_passkey": rules.proxy_passkey})
        return web.json_response({"message": "No valid actions", "rc": "NoValidActions"}, status=400)
    response = await handler(request)
    if request.path == "/api/v2/find_user" and operator and isinstance(response, web.Response) and response.text:
        return web.json_response({**json.loads(response.text), "service": rules.service_account},
                                 status=response.status)
    return response


@pytest.fixture
async def public(tmp_path, clock: FakeClock) -> AsyncIterator[Public]:  # type: ignore[no-untyped-def]
    config = AppConfig(core={"data_dir": str(tmp_path / "public")},
                       api={"requests_per_second": 1000.0, "request_burst": 1000})
    db = Database(f"sqlite:///{tmp_path}/public.db")
    await db.create_all()
    svc = HordeService(config, db, clock=clock)  # one time for both hordes: the tests' fake clock
    await svc.bootstrap()
    operator, operator_key = await svc.create_user("hordebot operator", kudos=100_000)
    _, worker_key = await svc.create_user("public gpu owner")
    ref: dict[str, Public] = {}
    app = create_app(svc, config)
    app.middlewares.append(_recorder(ref))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    config.api.public_url = str(server.make_url("")).rstrip("/")
    ref["public"] = Public(svc, server, operator_key, worker_key, rules=PublicRules(clock), operator_id=operator.id)
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
