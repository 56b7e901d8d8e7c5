"""/generate's `style` option and /settings styles through the real CommandTree: autocomplete (the server's
curated styles first, then the horde's), the style applied by the core (what the worker receives), NSFW styles
refused privately and for free outside age-restricted channels, and the server's default style."""

from __future__ import annotations

import asyncio

from horde_core.service import HordeService
from horde_core.service.style_specs import StyleSpec
from tests.bot.harness import DiscordHarness
from tests.bot.social import admin, kudos
from tests.bot.test_generate import MODEL, _worker


async def _styles(service: HordeService) -> str:
    """Four public styles by one customizer (one NSFW); returns the creator's name#id."""
    maker, _ = await service.create_user("stylist")
    maker = await service.set_user_roles_cli(str(maker.id), customizer=True)
    for name, nsfw, use in (("watercolour", False, 3), ("water lily", False, 1), ("wet look", True, 5),
                            ("ink", False, 0)):
        spec = StyleSpec(name=name, prompt="watercolour painting of {p}, soft###{np}, photo", nsfw=nsfw,
                         models=[MODEL], params={"steps": 20, "cfg_scale": 5.0, "width": 576, "height": 512})
        await service.create_style(maker, "image", spec)
        for _ in range(use):  # popularity orders the horde's choices
            await service.apply_style(maker, _styled(name))
    return maker.display_name


def _styled(name: str):  # type: ignore[no-untyped-def]
    from tests.helpers import image_request
    return image_request("x", style=name)


async def test_autocomplete_offers_the_servers_styles_first_and_hides_nsfw_in_sfw_channels(
        h: DiscordHarness, service: HordeService) -> None:
    creator = await _styles(service)
    await h.slash("settings styles add", {"name": "ink"}, user=await admin(h, 0))
    found = await h.autocomplete("generate", "style", "", options={"prompt": "x"}, user=h.member(1))
    assert [c["value"] for c in found] == ["ink", "watercolour", "water lily"]  # wet look is NSFW
    assert found[0]["name"] == "★ ink" and found[1]["name"] == f"watercolour — {creator}"
    typed = await h.autocomplete("generate", "style", "wat", options={"prompt": "x"}, user=h.member(1))
    assert [c["value"] for c in typed] == ["watercolour", "water lily"]
    h.channel.nsfw = True
    grown_up = await h.autocomplete("generate", "style", "w", options={"prompt": "x"}, user=h.member(1))
    assert [c["value"] for c in grown_up] == ["wet look", "watercolour", "water lily"]
    assert grown_up[0]["name"].endswith("(NSFW)")


async def test_the_worker_receives_the_styled_request(h: DiscordHarness, service: HordeService, server) -> None:
    await _styles(service)
    worker = await _worker(service, server)
    serving = asyncio.create_task(worker.serve(1))
    rec = await h.slash("generate", {"prompt": "a harbour", "negative": "people", "style": "watercolour",
                                     "steps": 40}, user=h.member(1))
    await serving
    assert rec.original.files
    payload = worker.served[-1]["payload"]
    assert payload["prompt"] == "watercolour painting of a harbour , soft### people, photo"
    assert (payload["ddim_steps"], payload["cfg_scale"], payload["width"], payload["height"]) == (20, 5.0, 576, 512)
    assert (await service.get_style_by_name("image", "watercolour")).use_count == 4


async def test_nsfw_styles_are_refused_privately_and_for_free_outside_age_restricted_channels(
        h: DiscordHarness, service: HordeService, server) -> None:
    await _styles(service)
    await _worker(service, server)
    before = await kudos(service, h.member(1))
    refused = await h.slash("generate", {"prompt": "a portrait", "style": "wet look"}, user=h.member(1))
    assert refused.type == 4 and refused.ephemeral and "age-restricted" in refused.content
    unknown = await h.slash("generate", {"prompt": "a portrait", "style": "no such style"}, user=h.member(1))
    assert unknown.type == 4 and unknown.ephemeral and "no image style" in unknown.content
    both = await h.slash("generate", {"prompt": "a cat", "style": "ink", "lora": "Cyberpunk AI"}, user=h.member(1))
    assert both.type == 4 and both.ephemeral and "not both" in both.content
    assert await kudos(service, h.member(1)) == before
    assert (await service.get_style_by_name("image", "wet look")).use_count == 5  # nothing was applied


async def test_settings_styles_add_remove_and_default(h: DiscordHarness, service: HordeService, server) -> None:
    await _styles(service)
    boss = await admin(h, 0)
    unknown = await h.slash("settings styles add", {"name": "oils"}, user=boss)
    assert unknown.ephemeral and "no image style `oils`" in unknown.content
    added = await h.slash("settings styles add", {"name": "ink"}, user=boss)
    assert added.ephemeral and "ink" in added.content
    assert (await h.bot.guild_settings(h.guild.id))["styles"] == ["ink"]
    removable = await h.autocomplete("settings styles remove", "name", "", user=boss)
    assert [c["value"] for c in removable] == ["ink"]
    await h.slash("settings styles remove", {"name": "ink"}, user=boss)
    assert (await h.bot.guild_settings(h.guild.id))["styles"] == []
    nsfw_default = await h.slash("settings styles default", {"name": "wet look"}, user=boss)
    assert nsfw_default.ephemeral
    refused = await h.slash("generate", {"prompt": "a tree"}, user=h.member(1))
    assert refused.ephemeral and "age-restricted" in refused.content  # the default is checked like a pick
    await h.slash("settings styles default", {"name": "watercolour"}, user=boss)
    assert (await h.bot.guild_settings(h.guild.id))["default_style"] == "watercolour"

    worker = await _worker(service, server)
    serving = asyncio.create_task(worker.serve(1))
    await h.slash("generate", {"prompt": "a tree"}, user=h.member(1))
    await serving
    assert worker.served[-1]["payload"]["prompt"] == "watercolour painting of a tree, soft###, photo"
    await h.slash("settings styles default", {}, user=boss)
    assert (await h.bot.guild_settings(h.guild.id))["default_style"] == ""
    member = await h.slash("settings styles add", {"name": "ink"}, user=h.member(1), raise_errors=False)
    assert member.ephemeral and "Manage Server" in member.content


async def test_a_partys_style_is_applied_when_members_pick_none(h: DiscordHarness, service: HordeService,
                                                                server) -> None:
    await _styles(service)
    host = h.member(0)
    await h.grant(host, manage_events=True)
    before = await kudos(service, host)
    nsfw = await h.slash("party start", {"theme": "tree", "award": 1, "budget": 5, "style": "wet look"}, user=host)
    assert nsfw.ephemeral and "age-restricted" in nsfw.content and await kudos(service, host) == before
    offered = await h.autocomplete("party start", "style", "wat", options={"theme": "tree", "award": 1,
                                                                           "budget": 5}, user=host)
    assert [c["value"] for c in offered] == ["watercolour", "water lily"]
    started = await h.slash("party start", {"theme": "tree", "award": 1, "budget": 5, "style": "watercolour"},
                            user=host)
    assert not started.ephemeral and {"name": "Style", "value": "watercolour", "inline": True} in started.embeds[0][
        "fields"]
    worker = await _worker(service, server)
    serving = asyncio.create_task(worker.serve(2))
    await h.slash("generate", {"prompt": "a tree"}, user=h.member(1))
    await h.slash("generate", {"prompt": "a tree", "style": "ink"}, user=h.member(1))
    await serving
    prompts = [s["payload"]["prompt"] for s in worker.served]
    assert prompts == ["watercolour painting of a tree, soft###, photo"] * 2  # both styles share the template
    assert (await service.get_style_by_name("image", "ink")).use_count == 1
    assert (await service.get_style_by_name("image", "watercolour")).use_count == 4
