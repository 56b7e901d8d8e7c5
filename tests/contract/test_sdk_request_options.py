"""horde-sdk 0.18.0 (strict) sending the request options it models on text requests: `disable_batching`,
`allow_downgrade` and `webhook`; and the text status fields KoboldAI Lite and SillyTavern read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from horde_sdk.ai_horde_api.apimodels import (
    TextGenerateAsyncResponse,
    TextGenerateJobPopResponse,
    TextGenerateStatusRequest,
    TextGenerateStatusResponse,
    TextGenerationJobSubmitRequest,
)
from horde_sdk.ai_horde_api.apimodels.base import JobSubmitResponse
from horde_sdk.ai_horde_api.consts import GENERATION_STATE

from horde_core.queue import lifecycle
from horde_core.service import HordeService
from tests.contract.sdk import call
from tests.contract.test_sdk_text_alchemy import TEXT_MODEL, text_pop_request, text_request


@pytest.fixture
async def hook() -> AsyncIterator[tuple[str, asyncio.Queue[bytes]]]:
    got: asyncio.Queue[bytes] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        await got.put(await request.read())
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", receive)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    yield f"http://127.0.0.1:{srv.port}/hook", got
    await srv.close()


async def test_sdk_text_options_batching_downgrade_webhook_and_status(service: HordeService, sdk_server, manual,
                                                                      make_user, hook) -> None:
    service.config.webhooks.allow_private = True  # the receiver is on loopback
    url, got = hook
    _, rkey = await make_user("trusted writer", kudos=0, trusted=True)
    _, wkey = await make_user("kobold")
    request = text_request(rkey, max_length=1024, max_context_length=4096, n=2, disable_batching=True,
                           allow_downgrade=True, webhook=url)
    accepted = await call(manual, request, TextGenerateAsyncResponse)
    async with service.db.read() as conn:
        row = await lifecycle.request_row(conn, str(accepted.id_))
    assert int(row.max_length) == 256 and row.disable_batching  # downgraded to what the user can hold
    texts = {}
    for _ in range(2):
        pop = await call(manual, text_pop_request(wkey, "Kobold", amount=2), TextGenerateJobPopResponse)
        assert pop.ids == [pop.id_] and pop.model == TEXT_MODEL  # one job per pop: batching disabled
        texts[str(pop.id_)] = f"story {str(pop.id_)[:8]}"
        await call(manual, TextGenerationJobSubmitRequest(apikey=wkey, id=pop.id_, generation=texts[str(pop.id_)],
                                                          state=GENERATION_STATE.ok), JobSubmitResponse)
    status = await call(manual, TextGenerateStatusRequest(id=accepted.id_), TextGenerateStatusResponse)
    assert status.done and status.finished == 2 and status.faulted is False and status.is_possible is True
    assert status.queue_position == 0 and status.wait_time == 0 and status.kudos == accepted.kudos
    assert sorted(g.text or "" for g in status.generations) == sorted(texts.values())
    for gen in status.generations:
        assert isinstance(gen.seed, int) and gen.model == TEXT_MODEL and gen.worker_name == "Kobold" and gen.worker_id
        assert gen.state == GENERATION_STATE.ok and gen.gen_metadata == []  # always there, as on AI Horde
    sent = [json.loads(await asyncio.wait_for(got.get(), 10)) for _ in range(2)]
    assert {s["id"]: s["text"] for s in sent} == texts and {s["request"] for s in sent} == {str(accepted.id_)}
