"""Scan before release: unchecked images wait for an alchemist's verdict; kudos settle at release."""

from __future__ import annotations

import pytest

from horde_core.clock import FakeClock
from horde_core.service import Forbidden, HordeService
from horde_core.service.schemas import AlchemyPopSpec, AlchemySubmitSpec
from tests.helpers import assert_books_balance, balance, image_request, pop_spec, submit_spec


@pytest.fixture
def scanning(service: HordeService) -> HordeService:
    service.config.safety.scan_before_release = True
    return service


async def _held(service: HordeService, make_user, **submit):  # type: ignore[no-untyped-def]
    requester, _ = await make_user("req", kudos=100)
    gpu, _ = await make_user("gpu")
    alchemist, _ = await make_user("alchemist")
    rid = (await service.request_images(requester, image_request(proxied_account="discord:8:9"))).id
    popped = await service.pop_image(gpu, pop_spec("w"))
    await service.submit_image(gpu, submit_spec(popped.ids[0], **submit))
    return requester, gpu, alchemist, rid


async def _scan(service: HordeService, alchemist, result) -> None:  # type: ignore[no-untyped-def]
    forms, _ = await service.pop_interrogation(alchemist, AlchemyPopSpec(name="scanner", forms=["nsfw"]))
    assert [f.form for f in forms] == ["nsfw"] and forms[0].source_image
    await service.submit_interrogation(alchemist, AlchemySubmitSpec(id=forms[0].id, result=result))


async def test_an_unchecked_image_is_held_until_scanned(scanning: HordeService, make_user) -> None:
    requester, gpu, alchemist, rid = await _held(scanning, make_user)
    progress = await scanning.check(rid)
    assert not progress.done and progress.processing == 1
    assert (await scanning.status(rid)).generations == []
    assert await balance(scanning, gpu) == 0  # paid at release
    await _scan(scanning, alchemist, {"nsfw": False, "scores": {"child": 0.12, "nude": 0.10}})
    status = await scanning.status(rid)
    assert status.progress.done and [g.state for g in status.generations] == ["ok"]
    assert await balance(scanning, gpu) == 6 and await balance(scanning, requester) == 100 - 9
    await assert_books_balance(scanning)


async def test_a_csam_verdict_censors_refunds_and_strikes_the_member(scanning: HordeService, make_user) -> None:
    requester, gpu, alchemist, rid = await _held(scanning, make_user)
    await _scan(scanning, alchemist, {"nsfw": True, "scores": {"child": 0.27, "nude": 0.28}})
    gen = (await scanning.status(rid)).generations[0]
    assert gen.censored and gen.state == "censored"
    assert await balance(scanning, requester) == 100 and await balance(scanning, gpu) == 0
    assert [s["reason"] for s in await scanning.community_strikes("discord:8")] == ["csam"]
    with pytest.raises(Forbidden):
        await scanning.request_images(requester, image_request(proxied_account="discord:8:9"))
    await assert_books_balance(scanning)


async def test_workers_that_check_their_own_images_are_not_held(scanning: HordeService, make_user) -> None:
    checked = [{"type": "censorship", "value": "nsfw"}]
    _, _, _, rid = await _held(scanning, make_user, censored=False, gen_metadata=checked)
    assert (await scanning.check(rid)).done


async def test_an_image_nobody_could_scan_is_released_censored(scanning: HordeService, make_user,
                                                              clock: FakeClock) -> None:
    requester, gpu, alchemist, rid = await _held(scanning, make_user)
    for _ in range(3):  # the alchemist fails the form every time
        forms, _ = await scanning.pop_interrogation(alchemist, AlchemyPopSpec(name="scanner", forms=["nsfw"]))
        await scanning.submit_interrogation(alchemist, AlchemySubmitSpec(id=forms[0].id, state="faulted"))
    assert (await scanning.sweep())["unscanned"] == 1
    gen = (await scanning.status(rid)).generations[0]
    assert gen.censored and await balance(scanning, requester) == 100
    assert await balance(scanning, gpu) == 6  # the worker did its job; the horde pays for the unscannable image
    await assert_books_balance(scanning)
