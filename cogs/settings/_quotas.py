"""/settings quotas set|remove|list: daily images for members with a role (boosters get more). The core
enforces them with `daily_images` and `max_in_flight` where requests are accepted."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot import settings as guild_settings
from bot.errors import UserFacingError
from bot.i18n import tr
from bot.members import identity

MAX_QUOTAS = 25


class QuotaSettings:
    """Mixed into the settings cog, so these commands share its Manage Server check."""

    bot: Any

    quotas = app_commands.Group(name="quotas", description="Daily images per role")

    async def _store_quotas(self, interaction: discord.Interaction, quotas: dict[str, int]) -> None:
        await guild_settings.store(self.bot.service, interaction.guild_id or 0, "role_quotas", quotas,
                                   identity(interaction.user))

    @quotas.command(name="set", description="Members with this role may generate this many images a day")
    @app_commands.describe(role="The role", images="Images a day (0: no limit)")
    async def quotas_set(self, interaction: discord.Interaction, role: discord.Role,
                         images: app_commands.Range[int, 0, 100_000]) -> None:
        current = dict((await self.bot.guild_settings(interaction.guild_id))["role_quotas"])
        if str(role.id) not in current and len(current) >= MAX_QUOTAS:
            raise UserFacingError("A server has at most {count} role quotas.", count=MAX_QUOTAS)
        current[str(role.id)] = images
        await self._store_quotas(interaction, current)
        text = (tr(interaction, "Members with {role} may generate as many images as they like.", role=role.mention)
                if images == 0 else
                tr(interaction, "Members with {role} may generate {images} images a day.", role=role.mention,
                   images=images))
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())

    @quotas.command(name="remove", description="Members with this role get the server's daily_images again")
    @app_commands.describe(role="The role")
    async def quotas_remove(self, interaction: discord.Interaction, role: discord.Role) -> None:
        current = dict((await self.bot.guild_settings(interaction.guild_id))["role_quotas"])
        if current.pop(str(role.id), None) is None:
            raise UserFacingError("{role} has no quota; `/settings quotas list` shows them.", role=role.mention)
        await self._store_quotas(interaction, current)
        await interaction.response.send_message(tr(interaction, "Removed the quota of {role}.", role=role.mention),
                                                ephemeral=True, allowed_mentions=discord.AllowedMentions.none())

    @quotas.command(name="list", description="Daily images per role, and the limits for everyone")
    async def quotas_list(self, interaction: discord.Interaction) -> None:
        settings = await self.bot.guild_settings(interaction.guild_id)
        lines = [tr(interaction, "Everyone: {images} images a day, {flight} requests at once.",
                    images=settings["daily_images"] or tr(interaction, "unlimited"),
                    flight=settings["max_in_flight"] or tr(interaction, "unlimited"))]
        for role_id, images in settings["role_quotas"].items():
            lines.append(f"<@&{role_id}>: " + (tr(interaction, "{images} images a day", images=images) if images
                                               else tr(interaction, "unlimited")))
        await interaction.response.send_message("\n".join(lines), ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())
