"""Web pages on the real aiohttp app (API + pages) with the aiohttp test client; a browser-free layer of tests.
The browser tests (test_browser.py) run `python main.py` and drive Chromium instead."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from horde_core.api import create_app
from horde_core.service import HordeService
from horde_core.web import setup_web

NONCE = re.compile(r'name="login_nonce" value="([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def config(config):  # type: ignore[no-untyped-def]
    config.web.admins = ["boss"]
    config.web.gallery = True
    return config


@pytest.fixture
async def site(service: HordeService) -> AsyncIterator[TestClient]:
    app = create_app(service, service.config)
    setup_web(app, service, service.config)
    server = TestServer(app, host="127.0.0.1")
    client = TestClient(server)
    await client.start_server()
    service.config.api.public_url = str(server.make_url("")).rstrip("/")
    try:
        yield client
    finally:
        await client.close()


async def login(client: TestClient, key: str) -> str:
    """Log in through the form like a browser; returns the CSRF token of the member's page."""
    page = await (await client.get("/login")).text()
    nonce = NONCE.search(page)
    assert nonce, page
    r = await client.post("/login", data={"apikey": key, "login_nonce": nonce.group(1)}, allow_redirects=False)
    assert r.status == 303, await r.text()
    me = await client.get("/me")
    assert me.status == 200
    found = CSRF.search(await me.text())
    assert found
    return found.group(1)


async def csrf_of(client: TestClient, path: str) -> str:
    found = CSRF.search(await (await client.get(path)).text())
    assert found, path
    return found.group(1)
