"""Admins restrict and tune the bot per guild; every change is validated and logged in the core."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import settings as guild_settings
from bot.errors import UserFacingError
from bot.members import identity


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ", ".join(f"<#{v}>" for v in value) or "everywhere"
    return str(value) if value != "" else "—"


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class SettingsCog(commands.GroupCog, group_name="settings", group_description="This server's hordebot settings"):
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
                for s in guild_settings.SETTINGS.values() if current.lower() in s.key][:25]

    @app_commands.command(name="show", description="Show every setting and its value")
    async def show(self, interaction: discord.Interaction) -> None:
        current = await self.bot.guild_settings(interaction.guild_id)
        embed = discord.Embed(title="hordebot settings", colour=discord.Colour.dark_teal())
        lines = [f"`{s.key}` = **{_show(v)}**{' (changed)' if changed else ''} — {s.description}"
                 for s, v, changed in current.items()]
        embed.description = "\n".join(lines)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="set", description="Change a setting")
    @app_commands.describe(key="The setting", value="Its new value")
    @app_commands.autocomplete(key=_keys)
    async def set_(self, interaction: discord.Interaction, key: str, value: str) -> None:
        try:
            updated = await guild_settings.change(self.bot.service, interaction.guild_id or 0, key, value,
                                                  identity(interaction.user))
        except guild_settings.SettingError as exc:
            raise UserFacingError(str(exc)) from exc
        await interaction.response.send_message(f"`{key}` is now **{_show(updated[key])}**.", ephemeral=True)

    @app_commands.command(name="reset", description="Put a setting back to its default")
    @app_commands.autocomplete(key=_keys)
    async def reset(self, interaction: discord.Interaction, key: str) -> None:
        try:
            updated = await guild_settings.change(self.bot.service, interaction.guild_id or 0, key, None,
                                                  identity(interaction.user))
        except guild_settings.SettingError as exc:
            raise UserFacingError(str(exc)) from exc
        await interaction.response.send_message(f"`{key}` is back to **{_show(updated[key])}**.", ephemeral=True)
