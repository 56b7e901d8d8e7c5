"""AI Horde's request options: disable_batching (trusted users' jobs are popped one at a time) and
allow_downgrade (a request the requester cannot hold is shrunk as AI Horde shrinks it, then priced again)."""

from __future__ import annotations

import json

import pytest

from horde_core.queue import lifecycle
from horde_core.service import Forbidden, HordeService
from horde_core.service.schemas import TextPopSpec, TextRequestSpec
from tests.helpers import assert_books_balance, balance, image_request, pop_spec, submit_spec


async def _params(service: HordeService, request_id: str) -> dict:  # type: ignore[type-arg]
    async with service.db.read() as conn:
        row = await lifecycle.request_row(conn, request_id)
    return {**json.loads(row.params), "slow_workers": bool(row.slow_workers), "max_length": int(row.max_length)}


async def test_disable_batching_pops_one_job_at_a_time_for_trusted_users(service: HordeService,
                                                                         make_user) -> None:
    trusted, _ = await make_user("trusted", kudos=500, trusted=True)
    plain, _ = await make_user("plain", kudos=500)
    owner, _ = await make_user("gpu")
    one_by_one = await service.request_images(trusted, image_request(params={"n": 3}, disable_batching=True))
    seen = []
    for _ in range(3):
        popped = await service.pop_image(owner, pop_spec("W", amount=5))
        assert len(popped.ids) == 1 and popped.payload["n_iter"] == 1 and len(popped.r2_uploads) == 1
        seen.append(popped.ids[0])
        assert await service.submit_image(owner, submit_spec(popped.ids[0])) > 0
    assert len(set(seen)) == 3 and (await service.check(one_by_one.id)).done
    # Everyone else's flag is ignored (AI Horde allows it to trusted users only): batched as usual.
    await service.request_images(plain, image_request(params={"n": 3}, disable_batching=True))
    assert len((await service.pop_image(owner, pop_spec("W", amount=5))).ids) == 3
    await assert_books_balance(service)


async def test_disable_batching_applies_to_text_too(service: HordeService, make_user) -> None:
    trusted, _ = await make_user("trusted", kudos=500, trusted=True)
    owner, _ = await make_user("llm")
    await service.request_text(trusted, TextRequestSpec.model_validate(
        {"prompt": "hi", "params": {"n": 2}, "disable_batching": True}))
    spec = TextPopSpec.model_validate({"name": "L", "amount": 4})
    assert len((await service.pop_text(owner, spec)).ids) == 1
    assert len((await service.pop_text(owner, spec)).ids) == 1
    assert (await service.pop_text(owner, spec)).ids == []


async def test_allow_downgrade_shrinks_what_the_requester_cannot_hold(service: HordeService, make_user) -> None:
    poor, _ = await make_user("poor", kudos=0)
    big = {"width": 1024, "height": 1536, "steps": 80}
    with pytest.raises(Forbidden) as refused:
        await service.request_images(poor, image_request(params=big))
    assert refused.value.rc == "KudosUpfront"
    dry = await service.request_images(poor, image_request(params=big, allow_downgrade=True, dry_run=True))
    accepted = await service.request_images(poor, image_request(params=big, allow_downgrade=True))
    queued = await _params(service, accepted.id)
    # AI Horde's rule: the area fits 576x576 (aspect kept, sides multiples of 64, at least 512x512), 30 steps.
    assert (queued["width"], queued["height"], queued["steps"]) == (448, 704, 30) and queued["slow_workers"]
    assert accepted.kudos == dry.kudos < (await service.request_images(
        poor, image_request(params=big, dry_run=True))).kudos
    assert await balance(service, poor) == -accepted.kudos  # held once, at the downgraded price
    await assert_books_balance(service)


async def test_allow_downgrade_keeps_aspect_and_leaves_affordable_requests_alone(service: HordeService,
                                                                               make_user) -> None:
    rich, _ = await make_user("rich", kudos=10_000)
    poor, _ = await make_user("poor", kudos=0)
    wide = {"width": 2048, "height": 1024, "steps": 40}
    kept = await service.request_images(rich, image_request(params=wide, allow_downgrade=True))
    assert {k: (await _params(service, kept.id))[k] for k in wide} == wide
    xl = await service.request_images(poor, image_request(params=wide, allow_downgrade=True, models=["SDXL 1.0"]))
    queued = await _params(service, xl.id)
    assert (queued["width"], queued["height"], queued["steps"]) == (1408, 704, 30)  # fits 1024x1024


async def test_text_allow_downgrade_lowers_max_length(service: HordeService, make_user) -> None:
    poor, _ = await make_user("poor", kudos=0)
    body = {"prompt": "hi", "params": {"max_length": 1024, "max_context_length": 4096, "n": 2}}
    with pytest.raises(Forbidden):
        await service.request_text(poor, TextRequestSpec.model_validate(body))
    accepted = await service.request_text(poor, TextRequestSpec.model_validate({**body, "allow_downgrade": True}))
    assert (await _params(service, accepted.id))["max_length"] == 256
