"""Queue order: a worker serves its owner and priority users first; kudos buy a bounded head start."""

from __future__ import annotations

from horde_core.clock import FakeClock
from horde_core.service import HordeService
from tests.helpers import image_request, pop_spec


async def _request(service: HordeService, user, prompt: str) -> str:  # type: ignore[no-untyped-def]
    return (await service.request_images(user, image_request(prompt))).id  # type: ignore[return-value]


async def _served_prompt(service: HordeService, owner, name: str = "w", **kwargs) -> str:  # type: ignore[no-untyped-def]
    popped = await service.pop_image(owner, pop_spec(name, **kwargs))
    return popped.payload["prompt"]


async def test_owner_and_priority_usernames_come_first(service: HordeService, make_user, clock: FakeClock) -> None:
    stranger, _ = await make_user("stranger", kudos=100_000)
    friend, _ = await make_user("friend", kudos=0)
    owner, _ = await make_user("owner", kudos=0)
    await _request(service, stranger, "stranger's")
    clock.advance(1)
    await _request(service, friend, "friend's")
    clock.advance(1)
    await _request(service, owner, "owner's")
    assert await _served_prompt(service, owner) == "owner's"
    assert await _served_prompt(service, owner, priority_usernames=[f"friend#{friend.id}"]) == "friend's"
    assert await _served_prompt(service, owner) == "stranger's"


async def test_kudos_buy_a_head_start_but_nobody_starves(service: HordeService, make_user, clock: FakeClock) -> None:
    poor, _ = await make_user("poor", kudos=0)
    rich, _ = await make_user("rich", kudos=1_000_000)
    gpu, _ = await make_user("gpu")
    anonymous = await service.authenticate(None)
    await _request(service, anonymous, "anonymous, first")
    clock.advance(10)
    await _request(service, poor, "poor, second")
    clock.advance(10)
    await _request(service, rich, "rich, third")
    assert await _served_prompt(service, gpu) == "rich, third"
    assert await _served_prompt(service, gpu) == "poor, second"
    assert await _served_prompt(service, gpu) == "anonymous, first"
    # A request that has waited longer than the largest head start beats any fortune.
    await _request(service, poor, "poor, long ago")
    clock.advance(601)
    await _request(service, rich, "rich, just now")
    assert await _served_prompt(service, gpu) == "poor, long ago"
