"""The prompt filter in the request path: blocks with a strike, rewrites when asked, and its terms live
in the database where administrators can change them."""

from __future__ import annotations

import pytest

from horde_core.service import BadRequest, Forbidden, HordeService
from tests.helpers import image_request


async def test_blocked_prompts_cost_nothing_and_strike_the_member(service: HordeService, make_user) -> None:
    user, _ = await make_user("u", kudos=100)
    bad = image_request("nude child", replacement_filter=False, proxied_account="discord:1:2")
    with pytest.raises(BadRequest) as blocked:
        await service.request_images(user, bad)
    assert blocked.value.rc == "CorruptPrompt"
    assert (await service.user_by_name(str(user.id))).kudos == 100
    assert [s["reason"] for s in await service.community_strikes("discord:1")] == ["blocked_prompt"]
    with pytest.raises(Forbidden):  # timed out, even for a harmless prompt
        await service.request_images(user, image_request("a cat", proxied_account="discord:1:2"))
    await service.request_images(user, image_request("a child flying a kite", proxied_account="discord:1:3"))
    await service.request_images(user, image_request("nude woman, oil painting", proxied_account="discord:1:3"))


async def test_replacement_filter_rewrites_instead_of_blocking(service: HordeService, make_user) -> None:
    user, _ = await make_user("u", kudos=100)
    # The API default is the replacement filter: rewrite instead of refusing.
    accepted = await service.request_images(user, image_request("a nude little girl on a beach"))
    outline = await service.request_outline(accepted.id)
    assert outline["prompt"].startswith("a nude woman on a beach ###")  # rewritten, with a protective negative
    assert not (await service.prompt_filter()).check(outline["prompt"]).blocked
    assert await service.community_strikes(None) == []
    dry = image_request("nude child", dry_run=True, replacement_filter=False)
    with pytest.raises(BadRequest):
        await service.request_images(user, dry)
    assert await service.community_strikes(None) == []  # a dry run is refused but not a strike


async def test_terms_are_stored_and_editable(service: HordeService, make_user) -> None:
    terms = await service.filter_terms()
    assert terms == (await service.filter_terms())  # seeded once, then read back
    with pytest.raises(BadRequest) as invalid:
        await service.set_filter_terms({"groups": "nonsense"})
    assert invalid.value.rc == "InvalidFilterTerms"
    assert not (await service.prompt_filter()).check("nude zorblax").blocked
    underage = {**terms["groups"]["underage"], "en": {**terms["groups"]["underage"]["en"], "zorblax": 1.5}}
    await service.set_filter_terms({**terms, "groups": {**terms["groups"], "underage": underage}})
    assert (await service.prompt_filter()).check("nude zorblax").blocked
