"""Limits that hold against a determined client: concurrency (per user, anonymous per IP, serialised on
both databases), the per-IP rate limit behind proxies, and worker names per user."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp.test_utils import TestServer

from horde_core.api import create_app
from horde_core.service import HordeService


@asynccontextmanager
async def serve(service: HordeService, **api: object) -> AsyncIterator[TestServer]:
    """The API with these `[api]` settings (read when the app is built)."""
    for key, value in api.items():
        setattr(service.config.api, key, value)
    srv = TestServer(create_app(service, service.config), host="127.0.0.1", port=0)
    await srv.start_server()
    service.config.api.public_url = str(srv.make_url("")).rstrip("/")
    try:
        yield srv
    finally:
        await srv.close()


async def _post(http: aiohttp.ClientSession, srv: TestServer, path: str, body: dict,  # type: ignore[type-arg]
                **headers: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    async with http.post(srv.make_url(path), json=body, headers=headers) as r:
        return r.status, await r.json()


async def test_anonymous_concurrency_holds_per_ip(service: HordeService) -> None:
    """One IP queued 800 anonymous jobs in a second: `core.anonymous_concurrency` was never applied."""
    service.config.core.anonymous_concurrency = 4
    async with serve(service) as srv, aiohttp.ClientSession() as http:
        results = await asyncio.gather(*[_post(http, srv, "/api/v2/generate/async", {"prompt": "a fox"})
                                         for _ in range(12)])
        codes = Counter(status for status, _ in results)
        assert codes == {202: 4, 429: 8}, results
        assert {out["rc"] for status, out in results if status == 429} == {"TooManyPrompts"}
        status, out = await _post(http, srv, "/api/v2/generate/async", {"prompt": "a fox", "params": {"n": 2}})
        assert (status, out["rc"]) == (429, "TooManyPrompts")


async def test_forwarded_for_is_believed_only_from_trusted_proxies(service: HordeService) -> None:
    """Rotating `X-Forwarded-For` bypassed the per-IP rate limit of anonymous requests."""
    service.config.api.requests_per_second, service.config.api.request_burst = 0.001, 2
    async with serve(service) as srv, aiohttp.ClientSession() as http:
        codes = [(await _post(http, srv, "/api/v2/generate/async", {"prompt": "a fox"},
                              **{"X-Forwarded-For": f"203.0.113.{i}"}))[0] for i in range(5)]
        assert codes == [202, 202, 429, 429, 429]
    async with serve(service, trusted_proxies=["127.0.0.1"]) as srv, aiohttp.ClientSession() as http:
        codes = [(await _post(http, srv, "/api/v2/generate/async", {"prompt": "a fox"},
                              **{"X-Forwarded-For": f"198.51.100.{i}"}))[0] for i in range(5)]
        assert codes == [202] * 5  # each client behind the proxy has its own bucket
        # A client cannot prepend an address of its choice: the proxy appends the real one, which counts.
        codes = [(await _post(http, srv, "/api/v2/generate/async", {"prompt": "a fox"},
                              **{"X-Forwarded-For": f"10.9.9.{i}, 198.51.100.77"}))[0] for i in range(4)]
        assert codes == [202, 202, 429, 429]


async def test_concurrency_is_serialised_per_user(service: HordeService, make_user) -> None:
    """On PostgreSQL, 40 simultaneous requests of a user with concurrency 30 were all accepted: the count
    and the insert were not atomic."""
    _, key = await make_user("busy", kudos=10_000, concurrency=30)
    async with serve(service) as srv, aiohttp.ClientSession() as http:
        results = await asyncio.gather(*[_post(http, srv, "/api/v2/generate/async", {"prompt": "a fox"},
                                               apikey=key) for _ in range(40)])
    codes = Counter(status for status, _ in results)
    assert codes == {202: 30, 429: 10}, codes


async def test_worker_names_per_user_are_limited(service: HordeService, make_user) -> None:
    service.config.core.max_workers_per_user = 3
    _, key = await make_user("farm")
    _, other = await make_user("other")
    async with serve(service) as srv, aiohttp.ClientSession() as http:
        results = await asyncio.gather(*[_post(http, srv, "/api/v2/generate/pop", {"name": f"w{i}"}, apikey=key)
                                         for i in range(6)])
        assert Counter(status for status, _ in results) == {200: 3, 403: 3}, results
        assert {out["rc"] for status, out in results if status == 403} == {"TooManyWorkers"}
        status, _ = await _post(http, srv, "/api/v2/generate/text/pop", {"name": "text one"}, apikey=key)
        assert status == 403
        for i in range(6):  # the names it has keep working
            if results[i][0] == 200:
                assert (await _post(http, srv, "/api/v2/generate/pop", {"name": f"w{i}"}, apikey=key))[0] == 200
        status, _ = await _post(http, srv, "/api/v2/generate/pop", {"name": "mine"}, apikey=other)
        assert status == 200


async def test_a_worker_name_keeps_its_kind(service: HordeService, make_user) -> None:
    """Found by the fuzzer: a name first used for text work, then popped for images while cached, was handed
    a text job as an image job (500)."""
    _, rkey = await make_user("req", kudos=100)
    _, wkey = await make_user("gpu")
    async with serve(service) as srv, aiohttp.ClientSession() as http:
        assert (await _post(http, srv, "/api/v2/generate/text/async", {"prompt": "hello"}, apikey=rkey))[0] == 202
        assert (await _post(http, srv, "/api/v2/generate/text/pop", {"name": "dual"}, apikey=wkey))[0] == 200
        for path in ("/api/v2/generate/pop", "/api/v2/interrogate/pop"):
            status, out = await _post(http, srv, path, {"name": "dual"}, apikey=wkey)
            assert (status, out["rc"]) == (400, "WorkerKindMismatch"), out
