"""Webhooks over the real API: refused with a 400 rc when the address is private, and delivered by the API
node's own sender loop (woken by the submit; the submit never waits for it)."""

from __future__ import annotations

import json

import aiohttp

from horde_core.service import HordeService
from tests.helpers import pop_spec, submit_spec


async def test_the_api_node_delivers_webhooks_on_its_own(service: HordeService, server, make_user,
                                                         receiver) -> None:
    _, key = await make_user("req", kudos=100)
    owner, _ = await make_user("gpu")
    body = {"prompt": "a lighthouse", "params": {"n": 1}, "webhook": receiver.url()}
    async with aiohttp.ClientSession() as http:
        r = await http.post(server.make_url("/api/v2/generate/async"), headers={"apikey": key}, json=body)
        out = await r.json()
        assert (r.status, out["rc"]) == (400, "InvalidWebhook"), out
        service.config.webhooks.allow_private = True
        r = await http.post(server.make_url("/api/v2/generate/async"), headers={"apikey": key}, json=body)
        assert r.status == 202
        rid = (await r.json())["id"]
    popped = await service.pop_image(owner, pop_spec("W"))
    await service.submit_image(owner, submit_spec(popped.ids[0]))
    _, raw = await receiver.next()  # sent by the loop the API runs, not by this test
    sent = json.loads(raw)
    assert (sent["request"], sent["id"]) == (rid, popped.ids[0])
