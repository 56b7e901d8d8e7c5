"""A member's gallery: their own results newest first; starred ones survive image pruning."""

from __future__ import annotations

import pytest

from horde_core.clock import FakeClock
from horde_core.service import HordeService, NotFound
from tests.helpers import image_request, pop_spec, submit_spec


async def _made(service: HordeService, user, owner, prompt: str, clock: FakeClock) -> str:  # type: ignore[no-untyped-def]
    await service.request_images(user, image_request(prompt))
    popped = await service.pop_image(owner, pop_spec("gpu"))
    await service.submit_image(owner, submit_spec(popped.ids[0]))
    clock.advance(1)
    return popped.ids[0]


async def test_gallery_pages_newest_first_and_favourites_survive_pruning(service: HordeService, make_user,
                                                                         clock: FakeClock) -> None:
    member, _ = await make_user("member", kudos=100)
    other, _ = await make_user("other", kudos=100)
    owner, _ = await make_user("gpu")
    first = await _made(service, member, owner, "a red fox###blurry", clock)
    await _made(service, other, owner, "not mine", clock)
    second = await _made(service, member, owner, "a blue jay", clock)
    page = await service.gallery_page(member.id)
    assert page.total == 2 and page.entry is not None and page.entry.job_id == second
    older = await service.gallery_page(member.id, 1)
    assert older.entry is not None and older.entry.job_id == first and older.entry.prompt == "a red fox"
    assert (await service.gallery_page(member.id, 7)).index == 1  # past the end: the oldest
    assert (await service.gallery_page(member.id, favourites_only=True)).entry is None

    await service.set_favourite(member.id, first, True)
    await service.set_favourite(member.id, first, True)  # starring twice is harmless
    with pytest.raises(NotFound):
        await service.set_favourite(other.id, first, True)  # only one's own results
    starred = await service.gallery_page(member.id, favourites_only=True)
    assert starred.total == 1 and starred.entry is not None and starred.entry.favourite

    clock.advance(service.config.core.image_retention + 10)
    await service.sweep()
    kept = await service.gallery_page(member.id, 1)
    assert kept.entry is not None and kept.entry.has_image and await service.image_bytes(first)
    gone = await service.gallery_page(member.id, 0)
    assert gone.entry is not None and not gone.entry.has_image and await service.image_bytes(second) is None

    await service.set_favourite(member.id, first, False)
    await service.sweep()
    assert await service.image_bytes(first) is None  # unstarred: pruned like the rest
