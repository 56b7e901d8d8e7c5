"""A moderator made through the API (PUT /v2/users/{id} by an operator) opens the web moderation pages at once,
and loses them as soon as the role is taken away: the role lives on the user, not in the config."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from horde_core.service import HordeService

from .conftest import login
from .test_moderation import PAGES


async def _put(site: TestClient, key: str, user_id: int, body: dict) -> int:  # type: ignore[type-arg]
    r = await site.put(f"/api/v2/users/{user_id}", headers={"apikey": key}, json=body)
    return r.status


async def test_the_moderator_role_set_by_api_opens_the_moderation_pages(site: TestClient, service: HordeService,
                                                                        make_user) -> None:  # type: ignore[no-untyped-def]
    _, boss_key = await make_user("boss")  # an operator (web.admins in the web tests' config)
    helper, key = await make_user("helper")
    await login(site, key)
    assert (await site.get("/mod")).status == 403
    assert await _put(site, key, helper.id, {"moderator": True}) == 403  # nobody promotes themselves
    assert await _put(site, boss_key, helper.id, {"moderator": True}) == 200
    for path in PAGES:
        assert (await site.get(path)).status == 200, path
    assert await _put(site, boss_key, helper.id, {"moderator": False}) == 200
    assert (await site.get("/mod")).status == 403
