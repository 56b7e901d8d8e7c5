"""/settings styles add|remove|default: the horde styles this server offers first, and the one applied when a
member picks none. Names are checked against the horde when added (an unknown one is refused); they live in the
guild's settings (`styles`, `default_style`), so the core stores them with every other setting."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot import settings as guild_settings
from bot.errors import UserFacingError
from bot.i18n import tr
from bot.members import identity
from horde_core.service import HordeError

MAX_CURATED = 25  # one autocomplete page


class StyleSettings:
    """Mixed into the settings cog, so these commands share its Manage Server check."""

    bot: Any

    styles = app_commands.Group(name="styles", description="Horde styles members are offered first")

    async def _known(self, name: str) -> str:
        try:
            return (await self.bot.service.style_limits(name)).name
        except HordeError:
            raise UserFacingError("There is no image style `{name}` on the horde.", name=name) from None

    async def _horde_styles(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        found = await self.bot.service.search_styles(current, 25)
        return [app_commands.Choice(name=f"{s.name} — {s.creator}"[:100], value=s.name) for s in found]

    async def _curated(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        current_settings = await self.bot.guild_settings(interaction.guild_id)
        return [app_commands.Choice(name=n[:100], value=n) for n in current_settings["styles"]
                if current.lower() in n.lower()][:25]

    async def _save(self, interaction: discord.Interaction, key: str, value: Any) -> None:
        await guild_settings.store(self.bot.service, interaction.guild_id or 0, key, value,
                                   identity(interaction.user))

    @styles.command(name="add", description="Offer a horde style first in /generate")
    @app_commands.describe(name="The style's name on the horde")
    @app_commands.autocomplete(name=_horde_styles)
    async def styles_add(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 100]) -> None:
        name = await self._known(name.strip())
        curated = (await self.bot.guild_settings(interaction.guild_id))["styles"]
        if name not in curated:
            if len(curated) >= MAX_CURATED:
                raise UserFacingError("This server already offers {count} styles; remove one first.",
                                      count=MAX_CURATED)
            await self._save(interaction, "styles", [*curated, name])
        await interaction.response.send_message(tr(interaction, "Members are offered **{name}** first now.",
                                                   name=name), ephemeral=True)

    @styles.command(name="remove", description="Stop offering a style first")
    @app_commands.describe(name="The style")
    @app_commands.autocomplete(name=_curated)
    async def styles_remove(self, interaction: discord.Interaction, name: str) -> None:
        current = await self.bot.guild_settings(interaction.guild_id)
        if name not in current["styles"]:
            raise UserFacingError("`{name}` is not among this server's styles.", name=name)
        await self._save(interaction, "styles", [n for n in current["styles"] if n != name])
        await interaction.response.send_message(tr(interaction, "Removed `{name}`.", name=name), ephemeral=True)

    @styles.command(name="default", description="The style applied when a member picks none")
    @app_commands.describe(name="The style (leave empty for none)")
    @app_commands.autocomplete(name=_horde_styles)
    async def styles_default(self, interaction: discord.Interaction,
                             name: app_commands.Range[str, 1, 100] | None = None) -> None:
        if not name or not name.strip():
            await self._save(interaction, "default_style", "")
            await interaction.response.send_message(tr(interaction, "No style is applied by default now."),
                                                    ephemeral=True)
            return
        name = await self._known(name.strip())
        await self._save(interaction, "default_style", name)
        await interaction.response.send_message(tr(interaction, "**{name}** is applied when members pick no style.",
                                                   name=name), ephemeral=True)
