"""Webhooks driven through the service on the fake clock: one pass of the sender at a time, so retries and
backoff are exact. The receiver is a real HTTP server on loopback (allowed explicitly by
`webhooks.allow_private`, which production leaves off)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from horde_core.api.webhook_post import post_webhook
from horde_core.clock import FakeClock
from horde_core.db import Database
from horde_core.queue import webhooks as queue
from horde_core.service import BadRequest, HordeService
from horde_core.service.schemas import TextPopSpec, TextRequestSpec, TextSubmitSpec
from tests.helpers import image_request, pop_spec, submit_spec


async def _pending(service: HordeService) -> int:
    async with service.db.read() as conn:
        return await queue.pending(conn)


async def _finish_images(service: HordeService, make_user, url: str, n: int = 1,  # type: ignore[no-untyped-def]
                         who: str = "") -> tuple[str, list[str]]:
    requester, _ = await make_user(f"req{who}", kudos=100)
    owner, _ = await make_user(f"gpu{who}")
    accepted = await service.request_images(requester, image_request(params={"n": n}, webhook=url))
    popped = await service.pop_image(owner, pop_spec(f"W{who}", amount=n))
    for jid in popped.ids:
        await service.submit_image(owner, submit_spec(jid, seed="1234"))
    assert accepted.id is not None
    return accepted.id, popped.ids


@pytest.fixture
def hooks(service: HordeService) -> HordeService:
    service.config.webhooks.allow_private = True
    service.config.webhooks.secret = "s3cret"
    service.webhook_post = post_webhook
    return service


async def test_each_generation_is_posted_once_signed(hooks: HordeService, make_user, receiver) -> None:
    rid, ids = await _finish_images(hooks, make_user, receiver.url(), n=2)
    assert await hooks.send_webhooks() == 2
    bodies = {}
    for _ in ids:
        headers, raw = await receiver.next()
        expected = "sha256=" + hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Horde-Signature"], expected)
        assert headers["Content-Type"] == "application/json"
        body = json.loads(raw)
        bodies[body["id"]] = body
    assert sorted(bodies) == sorted(ids)
    for body in bodies.values():
        assert body["request"] == rid and body["seed"] == "1234" and body["worker_name"] == "W"
        assert body["img"].startswith("http") and body["state"] == "ok" and body["censored"] is False
        assert body["kudos"] > 0 and body["worker_id"] and body["model"]
    assert await hooks.send_webhooks() == 0 and receiver.count == 2  # delivered rows are gone
    assert await _pending(hooks) == 0


async def test_a_5xx_is_retried_after_its_backoff(hooks: HordeService, make_user, receiver,
                                                 clock: FakeClock) -> None:
    receiver.answers = [500, 503]
    await _finish_images(hooks, make_user, receiver.url())
    assert await hooks.send_webhooks() == 0 and receiver.count == 1
    assert await hooks.send_webhooks() == 0 and receiver.count == 1  # not due before its backoff
    clock.advance(hooks.config.webhooks.first_backoff)
    assert await hooks.send_webhooks() == 0 and receiver.count == 2
    clock.advance(hooks.config.webhooks.first_backoff)  # the second backoff is twice the first
    assert await hooks.send_webhooks() == 0 and receiver.count == 2
    clock.advance(hooks.config.webhooks.first_backoff)
    assert await hooks.send_webhooks() == 1 and receiver.count == 3
    first, second = (await receiver.next())[1], (await receiver.next())[1]
    assert json.loads(first)["id"] == json.loads(second)["id"]
    assert await _pending(hooks) == 0


async def test_a_receiver_that_keeps_failing_is_given_up(hooks: HordeService, make_user, receiver,
                                                        clock: FakeClock) -> None:
    hooks.config.webhooks.max_tries = 2
    receiver.answers = [500] * 5
    await _finish_images(hooks, make_user, receiver.url())
    await hooks.send_webhooks()
    clock.advance(hooks.config.webhooks.first_backoff)
    await hooks.send_webhooks()
    assert receiver.count == 2 and await _pending(hooks) == 0
    clock.advance(1000)
    await hooks.send_webhooks()
    assert receiver.count == 2


async def test_a_4xx_is_not_retried(hooks: HordeService, make_user, receiver, clock: FakeClock) -> None:
    receiver.answers = [404]
    await _finish_images(hooks, make_user, receiver.url())
    await hooks.send_webhooks()
    clock.advance(1000)
    await hooks.send_webhooks()
    assert receiver.count == 1 and await _pending(hooks) == 0


async def test_private_addresses_are_refused_at_request_and_at_send(hooks: HordeService, make_user, receiver,
                                                                   clock: FakeClock) -> None:
    requester, _ = await make_user("asker", kudos=100)
    hooks.config.webhooks.allow_private = False
    for url in (receiver.url(), receiver.url("localhost"), "http://10.1.2.3/x", "http://169.254.169.254/latest",
                "ftp://example.com/x", "not a url"):
        with pytest.raises(BadRequest) as refused:
            await hooks.request_images(requester, image_request(webhook=url))
        assert refused.value.rc == "InvalidWebhook", url
    # Allowed when asked (say the name pointed elsewhere then), refused when sent: nothing reaches the receiver.
    hooks.config.webhooks.allow_private = True
    await _finish_images(hooks, make_user, receiver.url("localhost"), who="a")
    await _finish_images(hooks, make_user, receiver.url(), who="b")
    hooks.config.webhooks.allow_private = False
    assert await _pending(hooks) == 2
    assert await hooks.send_webhooks() == 0
    clock.advance(1000)
    assert await hooks.send_webhooks() == 0
    assert receiver.count == 0 and await _pending(hooks) == 0  # refused for good, not retried


async def test_a_pending_webhook_survives_a_restart(service: HordeService, make_user, receiver, db_url: str,
                                                    clock: FakeClock) -> None:
    service.config.webhooks.allow_private = True
    rid, ids = await _finish_images(service, make_user, receiver.url())  # this node never sends (no poster)
    assert await service.send_webhooks() == 0 and await _pending(service) == 1
    db = Database(db_url)
    try:
        other = HordeService(service.config, db, clock=clock)
        other.webhook_post = post_webhook
        assert await other.send_webhooks() == 1
    finally:
        await db.dispose()
    headers, raw = await receiver.next()
    body = json.loads(raw)
    assert (body["request"], body["id"]) == (rid, ids[0])
    assert "X-Horde-Signature" not in headers  # no secret configured: unsigned


async def test_text_generations_carry_their_text_and_the_queue_is_bounded(hooks: HordeService, make_user,
                                                                          receiver) -> None:
    hooks.config.webhooks.max_pending = 1
    requester, _ = await make_user("writer", kudos=100)
    owner, _ = await make_user("llm")
    accepted = await hooks.request_text(requester, TextRequestSpec.model_validate(
        {"prompt": "Once upon", "params": {"n": 2, "max_length": 16}, "webhook": receiver.url()}))
    popped = await hooks.pop_text(owner, TextPopSpec.model_validate({"name": "L", "amount": 2}))
    assert len(popped.ids) == 2
    for jid in popped.ids:
        await hooks.submit_text(owner, TextSubmitSpec.model_validate({"id": jid, "generation": f"text {jid}",
                                                                      "seed": 7}))
    assert await hooks.send_webhooks() == 1  # the second was dropped: the queue was full
    body = json.loads((await receiver.next())[1])
    assert body["request"] == accepted.id and body["text"] == f"text {body['id']}" and body["seed"] == 7
    assert "img" not in body and body["worker_name"] == "L"
