"""Webhooks for interrogation forms and for images held for a safety scan, and two senders on one database."""

from __future__ import annotations

import asyncio
import base64
import json

from horde_core.api.webhook_post import post_webhook
from horde_core.clock import FakeClock
from horde_core.db import Database
from horde_core.service import HordeService
from horde_core.service.schemas import AlchemyPopSpec, AlchemyRequestSpec, AlchemySubmitSpec
from tests.helpers import image_request, pop_spec, submit_spec, tiny_png


def _sending(service: HordeService) -> HordeService:
    service.config.webhooks.allow_private = True
    service.webhook_post = post_webhook
    return service


async def test_each_finished_form_is_posted_with_its_result(service: HordeService, make_user, receiver) -> None:
    hooks = _sending(service)
    requester, _ = await make_user("asker", kudos=50)
    alchemist, _ = await make_user("alchemist")
    rid = await hooks.request_interrogation(requester, AlchemyRequestSpec.model_validate({
        "forms": [{"name": "caption"}], "source_image": base64.b64encode(tiny_png(1, (64, 64))).decode(),
        "webhook": receiver.url()}))
    forms, _ = await hooks.pop_interrogation(alchemist, AlchemyPopSpec(name="Alchemist", forms=["caption"]))
    await hooks.submit_interrogation(alchemist, AlchemySubmitSpec(id=forms[0].id, result={"caption": "a cat"}))
    assert await hooks.send_webhooks() == 1
    body = json.loads((await receiver.next())[1])
    assert body == {"form": "caption", "state": "done", "result": {"caption": "a cat"},
                    "worker_id": body["worker_id"], "worker_name": "Alchemist", "request": rid,
                    "id": forms[0].id, "kudos": body["kudos"]}
    assert body["worker_id"] and body["kudos"] > 0


async def test_a_held_image_is_posted_when_its_scan_releases_it(service: HordeService, make_user,
                                                               receiver) -> None:
    hooks = _sending(service)
    hooks.config.safety.scan_before_release = True
    requester, _ = await make_user("req", kudos=100)
    gpu, _ = await make_user("gpu")
    alchemist, _ = await make_user("alchemist")
    rid = (await hooks.request_images(requester, image_request(webhook=receiver.url()))).id
    popped = await hooks.pop_image(gpu, pop_spec("w"))
    await hooks.submit_image(gpu, submit_spec(popped.ids[0]))
    assert await hooks.send_webhooks() == 0 and receiver.count == 0  # held: nothing to show yet
    forms, _ = await hooks.pop_interrogation(alchemist, AlchemyPopSpec(name="scanner", forms=["nsfw"]))
    await hooks.submit_interrogation(alchemist, AlchemySubmitSpec(id=forms[0].id, result={"nsfw": False}))
    assert await hooks.send_webhooks() == 1
    body = json.loads((await receiver.next())[1])
    assert (body["request"], body["id"], body["state"]) == (rid, popped.ids[0], "ok")


async def test_two_senders_on_one_database_post_each_webhook_once(service: HordeService, make_user, receiver,
                                                                  db_url: str, clock: FakeClock) -> None:
    hooks = _sending(service)
    requester, _ = await make_user("req", kudos=500)
    gpu, _ = await make_user("gpu")
    await hooks.request_images(requester, image_request(params={"n": 4}, webhook=receiver.url()))
    popped = await hooks.pop_image(gpu, pop_spec("W", amount=4))
    for jid in popped.ids:
        await hooks.submit_image(gpu, submit_spec(jid))
    db = Database(db_url)
    try:
        other = HordeService(hooks.config, db, clock=clock)
        other.webhook_post = post_webhook
        sent = await asyncio.gather(hooks.send_webhooks(limit=3), other.send_webhooks(limit=3))
        sent_again = await asyncio.gather(hooks.send_webhooks(), other.send_webhooks())
    finally:
        await db.dispose()
    assert sum(sent) + sum(sent_again) == 4 and receiver.count == 4
    ids = {json.loads((await receiver.next())[1])["id"] for _ in range(4)}
    assert ids == set(popped.ids)
