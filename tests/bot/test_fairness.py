"""Daily quotas per role and the in-flight limit hold for /generate without the generate feature checking
them (the core does, where it accepts requests); /settings quotas and /settings catalogue."""

from __future__ import annotations

import asyncio

from horde_core.service import HordeService
from tests.bot.harness import DiscordHarness
from tests.bot.social import admin, kudos
from tests.bot.test_generate import MODEL, _worker


async def test_role_quotas_hold_for_generate_and_refusals_cost_nothing(h: DiscordHarness, service: HordeService,
                                                                        server) -> None:
    boss = await admin(h, 0)
    member = h.member(1)
    booster = await h.grant(member, send_messages=True)
    done = await h.slash("settings quotas set", {"role": booster, "images": 2}, user=boss)
    assert done.ephemeral and "2 images a day" in done.content
    refused = await h.slash("settings quotas set", {"role": booster, "images": 3}, user=member)
    assert refused.ephemeral and "Manage Server" in refused.content
    listed = await h.slash("settings quotas list", user=boss)
    assert f"<@&{booster.id}>: 2 images a day" in listed.content

    worker = await _worker(service, server)
    for n in (1, 2):
        serving = asyncio.create_task(worker.serve(n))
        ok = await h.slash("generate", {"prompt": f"a kite {n}", "model": MODEL}, user=member)
        await serving
        assert ok.original.files, n
    before = await kudos(service, member)
    third = await h.slash("generate", {"prompt": "one more", "model": MODEL}, user=member)
    assert "allows you 2 images a day" in third.followups[-1].data["content"]
    assert third.followups[-1].ephemeral and third.original.deleted  # private; the public "thinking" is gone
    assert await kudos(service, member) == before

    removed = await h.slash("settings quotas remove", {"role": booster}, user=boss)
    assert removed.ephemeral and "Removed" in removed.content
    serving = asyncio.create_task(worker.serve(3))
    back = await h.slash("generate", {"prompt": "no limit again", "model": MODEL}, user=member)
    await serving
    assert back.original.files


async def test_settings_catalogue_extends_what_members_can_pick(h: DiscordHarness, service: HordeService) -> None:
    boss = await admin(h, 0)
    added = await h.slash("settings catalogue add", {"kind": "lora", "name": "Glowing Runes", "civitai": "51686",
                                                     "family": "sd1.5", "triggers": "GlowingRunesAI"}, user=boss)
    assert added.ephemeral and "Glowing Runes" in added.content
    choices = await h.autocomplete("catalogue", "name", "runes", user=h.member(1))
    assert [c["value"] for c in choices] == ["Glowing Runes"]
    dup = await h.slash("settings catalogue add", {"kind": "lora", "name": "glowing runes", "civitai": "1",
                                                   "family": "sdxl"}, user=boss)
    assert dup.ephemeral and "already has" in dup.content
    own = await h.autocomplete("settings catalogue remove", "name", "", options={"kind": "lora"}, user=boss)
    assert [c["value"] for c in own] == ["Glowing Runes"]  # only what the server added
    listed = await h.slash("settings catalogue list", user=boss)
    assert "`51686`" in listed.content
    gone = await h.slash("settings catalogue remove", {"kind": "lora", "name": "Glowing Runes"}, user=boss)
    assert gone.ephemeral and not await h.autocomplete("catalogue", "name", "runes", user=h.member(1))
    shipped = await h.slash("settings catalogue remove", {"kind": "lora", "name": "Pixel Art XL"}, user=boss)
    assert shipped.ephemeral and "shipped entries cannot be removed" in shipped.content
