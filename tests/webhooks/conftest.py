"""A webhook receiver on loopback: records what it is sent and answers with the statuses it is told to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Receiver:
    server: TestServer
    got: asyncio.Queue[tuple[dict[str, str], bytes]] = field(default_factory=asyncio.Queue)
    answers: list[int] = field(default_factory=list)  # statuses to answer, in order; then 200
    count: int = 0

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.server.port}/hook"

    async def next(self) -> tuple[dict[str, str], bytes]:
        return await asyncio.wait_for(self.got.get(), timeout=10)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    box: list[Receiver] = []

    async def hook(request: web.Request) -> web.Response:
        rec = box[0]
        rec.count += 1
        await rec.got.put((dict(request.headers), await request.read()))
        return web.Response(status=rec.answers.pop(0) if rec.answers else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    box.append(Receiver(srv))
    yield box[0]
    await srv.close()
