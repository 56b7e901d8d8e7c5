"""/account, /worker and /settings through the real CommandTree."""

from __future__ import annotations

import aiohttp

from horde_core.config import AppConfig
from horde_core.service import HordeService
from tests.bot.conftest import build_bot
from tests.bot.harness import DiscordHarness


async def test_members_become_core_users_with_a_starting_balance(h: DiscordHarness, service: HordeService) -> None:
    rec = await h.slash("account", user=h.member(1))
    assert rec.ephemeral and rec.type == 4
    fields = {f["name"]: f["value"] for f in rec.embeds[0]["fields"]}
    assert fields["Kudos"] == str(service.config.bot.starting_kudos)
    user = await service.user_for_identity(f"discord:{h.member(1).id}", "x")
    assert user.kudos == service.config.bot.starting_kudos
    again = await h.slash("account", user=h.member(1))  # the same account, not a second one
    assert {f["name"]: f["value"] for f in again.embeds[0]["fields"]}["Kudos"] == fields["Kudos"]


async def test_worker_key_is_private_and_attaches_a_worker(h: DiscordHarness, service: HordeService, server,
                                                           config: AppConfig) -> None:
    rec = await h.slash("worker key", user=h.member(1))
    assert rec.ephemeral and "/api/" in rec.content
    button = next(c for c in rec.custom_ids if c.startswith("account:newkey:"))
    await h.restart(build_bot(config, service))  # the button still works after a restart
    made = await h.click(rec, button, user=h.member(1))
    assert made.ephemeral
    key = next(part.strip("`") for part in made.content.split() if len(part.strip("`")) == 22)
    async with aiohttp.ClientSession() as http, http.post(
            server.make_url("/api/v2/generate/pop"), headers={"apikey": key},
            json={"name": "Member GPU", "models": ["stable_diffusion"]}) as r:
        assert r.status == 200
    listed = await h.slash("worker list", user=h.member(1))
    assert listed.ephemeral and "Member GPU" in listed.content and "online" in listed.content
    other = await h.slash("worker list", user=h.member(2))
    assert other.ephemeral and "no workers" in other.content


async def test_settings_need_manage_server_and_validate(h: DiscordHarness, service: HordeService) -> None:
    refused = await h.slash("settings show", user=h.member(1))
    assert refused.ephemeral and "Manage Server" in refused.content
    admin = h.member(2)
    await h.grant(admin, manage_guild=True)
    shown = await h.slash("settings show", user=admin)
    assert shown.ephemeral and "`max_steps` = **50**" in shown.embeds[0]["description"]
    done = await h.slash("settings set", {"key": "max_steps", "value": "25"}, user=admin)
    assert "**25**" in done.content
    bad = await h.slash("settings set", {"key": "max_steps", "value": "9000"}, user=admin)
    assert bad.ephemeral and "at most 500" in bad.content
    unknown = await h.slash("settings set", {"key": "colour", "value": "red"}, user=admin)
    assert unknown.ephemeral and "no setting `colour`" in unknown.content
    choices = await h.autocomplete("settings set", "key", "max_", user=admin)
    assert {c["value"] for c in choices} >= {"max_steps", "max_size", "max_images"}
    assert (await service.community_settings(f"discord:guild:{h.guild.id}")) == {"max_steps": 25}
    reset = await h.slash("settings reset", {"key": "max_steps"}, user=admin)
    assert "**50**" in reset.content
    log = await service.community_settings_history(f"discord:guild:{h.guild.id}")
    assert [e["actor"] for e in log] == [f"discord:{admin.id}"] * 2
