"""/settings catalogue add|remove|list: LoRAs and textual inversions this server adds to the shipped ones."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.i18n import tr
from bot.members import identity
from bot.settings import scope

KINDS = [app_commands.Choice(name="LoRA", value="lora"), app_commands.Choice(name="textual inversion", value="ti")]
FAMILIES = [app_commands.Choice(name=f, value=f) for f in ("sd1.5", "sd2", "sdxl", "sd3", "cascade", "flux")]


class CatalogueSettings:
    """Mixed into the settings cog, so these commands share its Manage Server check."""

    bot: Any

    catalogue = app_commands.Group(name="catalogue", description="LoRAs and textual inversions members can pick")

    async def _own_entries(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        kind = getattr(interaction.namespace, "kind", None) or "lora"
        found = await self.bot.service.catalogue_search(scope(interaction.guild_id or 0), kind, current, limit=100)
        return [app_commands.Choice(name=e.label, value=e.name) for e in found if e.community][:25]

    @catalogue.command(name="add", description="Add a LoRA or textual inversion members can pick")
    @app_commands.describe(kind="LoRA or textual inversion", name="The name members see",
                           civitai="Its CivitAI model id (or exact name) workers fetch",
                           family="The base model family it was trained for",
                           triggers="Trigger words, comma-separated", size_mb="Download size in MB")
    @app_commands.choices(kind=KINDS, family=FAMILIES)
    async def catalogue_add(self, interaction: discord.Interaction, kind: str, name: app_commands.Range[str, 1, 100],
                            civitai: app_commands.Range[str, 1, 200], family: str,
                            triggers: app_commands.Range[str, 0, 500] = "",
                            size_mb: app_commands.Range[float, 0.0, 100_000.0] | None = None) -> None:
        entry = await self.bot.service.catalogue_add(
            scope(interaction.guild_id or 0), kind=kind, name=name, horde_name=civitai, triggers=triggers,
            family=family, size_mb=size_mb, actor=identity(interaction.user))
        await interaction.response.send_message(tr(interaction, "Added **{label}**: members can pick it now.",
                                                   label=entry.label), ephemeral=True)

    @catalogue.command(name="remove", description="Remove an entry this server added")
    @app_commands.describe(kind="LoRA or textual inversion", name="The entry")
    @app_commands.choices(kind=KINDS)
    @app_commands.autocomplete(name=_own_entries)
    async def catalogue_remove(self, interaction: discord.Interaction, kind: str, name: str) -> None:
        await self.bot.service.catalogue_remove(scope(interaction.guild_id or 0), kind, name)
        await interaction.response.send_message(tr(interaction, "Removed `{name}`.", name=name), ephemeral=True)

    @catalogue.command(name="list", description="The entries this server added")
    async def catalogue_list(self, interaction: discord.Interaction) -> None:
        own = await self.bot.service.catalogue_community_entries(scope(interaction.guild_id or 0))
        if not own:
            raise UserFacingError("This server added no entries yet; the shipped catalogue is always there. "
                                  "Add one with `/settings catalogue add`.")
        lines = [f"{'LoRA' if e.kind == 'lora' else 'TI'} · {e.label} · `{e.horde_name}`" for e in own[:40]]
        if len(own) > 40:
            lines.append(tr(interaction, "…and {count} more.", count=len(own) - 40))
        await interaction.response.send_message("\n".join(lines)[:2000], ephemeral=True)
