"""/abuse through the real CommandTree: admins see and clear their guild; operators see all and suspend."""

from __future__ import annotations

from horde_core.config import AppConfig
from horde_core.service import HordeService
from tests.bot.harness import DiscordHarness


async def test_admins_see_and_clear_their_guilds_strikes(h: DiscordHarness, service: HordeService) -> None:
    guild = f"discord:{h.guild.id}"
    user, _ = await service.create_user("x")
    await service.record_strike(service.subject(user.id, False, f"{guild}:{h.member(1).id}", ""), "blocked_prompt")
    await service.record_strike(service.subject(user.id, False, "discord:999:5", ""), "csam")  # another guild
    refused = await h.slash("abuse list", user=h.member(1))
    assert refused.ephemeral and "Manage Server" in refused.content
    admin = h.member(2)
    await h.grant(admin, manage_guild=True)
    listed = await h.slash("abuse list", user=admin)
    assert listed.ephemeral and f"<@{h.member(1).id}>" in listed.content and "blocked prompt" in listed.content
    assert "csam" not in listed.content  # only this guild's strikes
    cleared = await h.slash("abuse clear", {"member": h.member(1)}, user=admin)
    assert "Cleared 1" in cleared.content
    assert (await h.slash("abuse list", user=admin)).content == "No live strikes in this server."


async def test_operators_suspend_and_lift_and_the_guild_hears(h: DiscordHarness, service: HordeService,
                                                              config: AppConfig) -> None:
    await service.update_community_settings(f"discord:guild:{h.guild.id}", {"alert_channel": h.channel.id}, "a")
    refused = await h.slash("abuse suspend", {"guild_id": str(h.guild.id), "hours": 2}, user=h.member(1))
    assert refused.ephemeral and "operators" in refused.content
    config.bot.owner_ids = [h.member(0).id]
    done = await h.slash("abuse suspend", {"guild_id": str(h.guild.id), "hours": 2}, user=h.member(0))
    assert "suspended until" in done.content
    alert = h.get_message()
    assert alert.channel.id == h.channel.id and "suspended" in alert.content
    report = await h.slash("abuse report", user=h.member(0))
    assert f"community:discord:{h.guild.id}" in report.content and "(manual)" in report.content
    member = await service.user_for_identity(f"discord:{h.member(1).id}", "m", starting_kudos=50)
    generated = await h.slash("generate", {"prompt": "a cat"}, user=h.member(1))
    assert "suspended" in generated.followups[-1].content and generated.followups[-1].ephemeral
    assert (await service.user_by_name(str(member.id))).kudos == 50
    lifted = await h.slash("abuse lift", {"guild_id": str(h.guild.id)}, user=h.member(0))
    assert "can generate again" in lifted.content
    assert "available again" in h.get_message().content
