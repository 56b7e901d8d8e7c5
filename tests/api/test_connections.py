"""Connections and disks misbehaving: clients that drop mid-body or never speak, memory under floods of
large bodies, and a disk that fills while the horde runs (503 with rc, then it recovers).

These run the server the way `main.py` does (`runner_options`), not the test server, whose defaults differ.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import resource
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image

from horde_core.api import create_app, runner_options
from horde_core.service import HordeService


@asynccontextmanager
async def running(service: HordeService) -> AsyncIterator[str]:
    runner = web.AppRunner(create_app(service, service.config), **runner_options(service.config))  # type: ignore[arg-type]
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    service.config.api.public_url = f"http://127.0.0.1:{port}"
    try:
        yield service.config.api.public_url
    finally:
        await runner.cleanup()


async def _raw(base: str, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    return reader, writer


async def test_a_client_dropping_mid_body_logs_one_line_at_most(service: HordeService, make_user, caplog) -> None:
    _, key = await make_user(kudos=100)
    caplog.set_level(logging.DEBUG)
    async with running(service) as base:
        for _ in range(5):
            _, writer = await _raw(base, (f"POST /api/v2/generate/async HTTP/1.1\r\nHost: x\r\napikey: {key}\r\n"
                                          "Content-Length: 1000000\r\n\r\n").encode() + b'{"prompt": "' + b"a" * 5000)
            writer.close()
            await writer.wait_closed()
        async with aiohttp.ClientSession() as http, http.get(f"{base}/api/v2/status/heartbeat") as r:
            assert r.status == 200  # the server is fine and answers the next client
    lines = [r for r in caplog.records if r.levelno >= logging.INFO and r.name.startswith(("aiohttp", "horde"))]
    assert len(lines) <= 5, [r.getMessage() for r in lines]
    assert not any(r.exc_info for r in lines), [r.getMessage() for r in lines]


async def test_idle_connections_time_out(service: HordeService) -> None:
    service.config.api.idle_timeout = 0.3
    async with running(service) as base:
        silent, _ = await _raw(base, b"")
        slow, _ = await _raw(base, b"GET /api/v2/status/heartbeat HTTP/1.1\r\nHost: x\r\n")  # never finished
        for reader in (silent, slow):
            assert await asyncio.wait_for(reader.read(), timeout=30) == b""  # closed by the server


async def test_a_slow_body_times_out(service: HordeService, make_user) -> None:
    _, key = await make_user(kudos=100)
    service.config.api.body_timeout = 0.3
    async with running(service) as base:
        reader, writer = await _raw(base, (f"POST /api/v2/generate/async HTTP/1.1\r\nHost: x\r\napikey: {key}\r\n"
                                           "Content-Length: 100\r\n\r\n{").encode())
        head = await asyncio.wait_for(reader.readline(), timeout=30)
        assert b" 408 " in head
        writer.close()


async def test_large_bodies_wait_for_a_slot_and_unknown_keys_are_never_read(service: HordeService,
                                                                           make_user) -> None:
    """Forty 12 MB bodies without an API key took the process from 96 MB to 607 MB: bodies were read before
    the key was checked, all at once."""
    _, key = await make_user(kudos=100)
    service.config.api.large_bodies_at_once = 1
    service.config.api.large_body_wait = 0.2
    async with running(service) as base, aiohttp.ClientSession() as http:
        big = b'{"prompt": "' + b"a" * (2 * 1024 * 1024) + b'"}'
        async with http.post(f"{base}/api/v2/generate/async", data=big, headers={"apikey": "x" * 22}) as r:
            assert r.status == 401  # answered without reading the body
        # One large body at a time: while a slow client holds the slot, another large body waits, then 503.
        _, writer = await _raw(base, (f"POST /api/v2/generate/async HTTP/1.1\r\nHost: x\r\napikey: {key}\r\n"
                                      f"Content-Length: {len(big)}\r\n\r\n").encode() + big[:1000])
        await asyncio.sleep(0)  # the slow client's request reaches its handler first
        for _ in range(50):
            async with http.post(f"{base}/api/v2/generate/async", data=big, headers={"apikey": key}) as r:
                if r.status == 503:
                    assert (await r.json())["rc"] == "ServerBusy"
                    break
        else:
            raise AssertionError("a second large body was read while the first held the only slot")
        async with http.post(f"{base}/api/v2/generate/async", json={"prompt": "small"}, headers={"apikey": key}) as r:
            assert r.status == 202  # small bodies never wait
        writer.close()


@contextmanager
def disk_full_beyond(limit: int) -> Any:
    """Writes past `limit` bytes fail as on a full disk (the kernel's file size limit: EFBIG; SIGXFSZ ignored)."""
    old_signal = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    old = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, old[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old)
        signal.signal(signal.SIGXFSZ, old_signal)


def _big_png() -> str:
    noise = Image.effect_noise((1024, 1024), 100).convert("RGB")
    out = io.BytesIO()
    noise.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


async def test_a_disk_filling_while_running_answers_503_and_recovers(service: HordeService, make_user) -> None:
    _, rkey = await make_user("req", kudos=100)
    _, wkey = await make_user("gpu")
    big = _big_png()
    async with running(service) as base, aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/v2/generate/async", json={"prompt": "x"}, headers={"apikey": rkey}) as r:
            assert r.status == 202
        async with http.post(f"{base}/api/v2/generate/pop", json={"name": "w"}, headers={"apikey": wkey}) as r:
            pop = await r.json()
        with disk_full_beyond(256 * 1024):
            async with http.put(pop["r2_upload"], data=b"x" * 512 * 1024) as r:
                assert r.status == 503 and (await r.json())["rc"] == "StorageUnavailable"
            async with http.post(f"{base}/api/v2/generate/submit", headers={"apikey": wkey},
                                 json={"id": pop["id"], "generation": big}) as r:
                assert r.status == 503 and (await r.json())["rc"] == "StorageUnavailable", await r.text()
        async with http.post(f"{base}/api/v2/generate/submit", headers={"apikey": wkey},
                             json={"id": pop["id"], "generation": big}) as r:
            assert r.status == 200, await r.text()  # space again: the same submit goes through
