"""Admins restrict and tune the bot per guild; every change is validated and logged in the core.

Structured settings have their own subcommands (`kudos-emoji`, `roles`, mixed in from their modules);
`show` also lists what other features report as broken (`bot.diagnostics`), so a role the bot can't
hand out is seen where admins look, instead of failing quietly.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import diagnostics
from bot import settings as guild_settings
from bot.errors import UserFacingError
from bot.i18n import tr
from bot.members import identity

from ._catalogue import CatalogueSettings
from ._kudos_emoji import KudosEmojiSettings
from ._quotas import QuotaSettings
from ._roles import RoleRuleSettings
from ._styles import StyleSettings

MAX_WARNINGS_SHOWN = 10


def _show(interaction: discord.Interaction, value: Any, setting: guild_settings.Setting | None = None) -> str:
    if setting is not None and setting.summary is not None:
        return setting.summary(value)
    if isinstance(value, bool):
        return tr(interaction, "on") if value else tr(interaction, "off")
    if isinstance(value, list):
        return ", ".join(f"<#{v}>" for v in value) or tr(interaction, "everywhere")
    return str(value) if value != "" else "—"


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class SettingsCog(KudosEmojiSettings, RoleRuleSettings, CatalogueSettings, QuotaSettings, StyleSettings,
                  commands.GroupCog,
                  group_name="settings",
                  group_description="This server's hordebot settings"):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:  # type: ignore[override]
        perms = interaction.permissions
        if not (perms.manage_guild or perms.administrator):
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    async def _keys(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"{s.key} — {s.description}"[:100], value=s.key)
                for s in guild_settings.SETTINGS.values() if current.lower() in s.key and not s.structured][:25]

    @app_commands.command(name="show", description="Show every setting and its value")
    async def show(self, interaction: discord.Interaction) -> None:
        current = await self.bot.guild_settings(interaction.guild_id)
        embed = discord.Embed(title=tr(interaction, "hordebot settings"), colour=discord.Colour.dark_teal())
        lines = [f"`{s.key}` = **{_show(interaction, v, s)}**{tr(interaction, ' (changed)') if changed else ''} — "
                 + tr(interaction, s.description)
                 + (tr(interaction, " Change with `{command}`.", command=s.edit_with) if s.structured else "")
                 for s, v, changed in current.items()]
        embed.description = "\n".join(lines)[:4096]
        warnings = await diagnostics.collect(self.bot, interaction.guild) if interaction.guild else []
        if warnings:
            shown = "\n".join(f"⚠️ {w}" for w in warnings[:MAX_WARNINGS_SHOWN])
            if len(warnings) > MAX_WARNINGS_SHOWN:
                shown += "\n" + tr(interaction, "…and {count} more.", count=len(warnings) - MAX_WARNINGS_SHOWN)
            embed.add_field(name=tr(interaction, "Needs attention"), value=shown[:1024], inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="set", description="Change a setting")
    @app_commands.describe(key="The setting", value="Its new value")
    @app_commands.autocomplete(key=_keys)
    async def set_(self, interaction: discord.Interaction, key: str, value: str) -> None:
        try:
            updated = await guild_settings.change(self.bot.service, interaction.guild_id or 0, key, value,
                                                  identity(interaction.user))
        except guild_settings.SettingError as exc:
            raise UserFacingError(exc.template, **exc.params) from exc
        await interaction.response.send_message(tr(interaction, "`{key}` is now **{value}**.", key=key, value=_show(
            interaction, updated[key], guild_settings.SETTINGS[key])), ephemeral=True)

    @app_commands.command(name="reset", description="Put a setting back to its default")
    @app_commands.autocomplete(key=_keys)
    async def reset(self, interaction: discord.Interaction, key: str) -> None:
        try:
            updated = await guild_settings.change(self.bot.service, interaction.guild_id or 0, key, None,
                                                  identity(interaction.user))
        except guild_settings.SettingError as exc:
            raise UserFacingError(exc.template, **exc.params) from exc
        await interaction.response.send_message(tr(interaction, "`{key}` is back to **{value}**.", key=key, value=_show(
            interaction, updated[key], guild_settings.SETTINGS[key])), ephemeral=True)
