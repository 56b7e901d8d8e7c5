"""/settings kudos-emoji add|remove|list: which reactions gift kudos in this server."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot import kudos_emoji
from bot import settings as guild_settings
from bot.errors import UserFacingError
from bot.i18n import tr
from bot.members import identity


class KudosEmojiSettings:
    """Mixed into the settings cog, so these commands share its Manage Server check."""

    bot: Any

    kudos_emoji = app_commands.Group(name="kudos-emoji", description="Emoji that gift kudos when members react")

    async def _mapped(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        current_settings = await self.bot.guild_settings(interaction.guild_id)
        return [app_commands.Choice(name=f"{e.emoji} — {e.amount} kudos"[:100], value=e.key)
                for e in kudos_emoji.entries(current_settings["kudos_emoji"])
                if current.lower() in f"{e.emoji} {e.title}".lower()][:25]

    async def _store(self, interaction: discord.Interaction, mapping: dict[str, Any]) -> None:
        await guild_settings.store(self.bot.service, interaction.guild_id or 0, "kudos_emoji", mapping,
                                   identity(interaction.user))

    @kudos_emoji.command(name="add", description="Make reacting with an emoji gift kudos (or change its amount)")
    @app_commands.describe(emoji="A Unicode emoji or one of this server's", amount="Kudos each reaction gifts",
                           title="Shown with the gift, e.g. 'Helpful!'", message="Told to the recipient")
    async def kudos_emoji_add(self, interaction: discord.Interaction, emoji: str,
                              amount: app_commands.Range[int, 1, kudos_emoji.MAX_AMOUNT],
                              title: app_commands.Range[str, 1, 100] | None = None,
                              message: app_commands.Range[str, 1, 200] | None = None) -> None:
        current = await self.bot.guild_settings(interaction.guild_id)
        try:
            entry = kudos_emoji.parse(emoji, amount, title, message,
                                      guild_emojis=interaction.guild.emojis if interaction.guild else ())
            await self._store(interaction, kudos_emoji.with_entry(current["kudos_emoji"], entry))
        except guild_settings.SettingError as exc:
            raise UserFacingError(exc.template, **exc.params) from exc
        await interaction.response.send_message(tr(
            interaction, "Reacting with {emoji} now gifts **{amount}** kudos to the message's author "
            "(on a generated image: to whoever asked for it).", emoji=entry.emoji, amount=f"{entry.amount:,}"),
            ephemeral=True)

    @kudos_emoji.command(name="remove", description="Stop an emoji from gifting kudos")
    @app_commands.describe(emoji="The emoji to unmap")
    @app_commands.autocomplete(emoji=_mapped)
    async def kudos_emoji_remove(self, interaction: discord.Interaction, emoji: str) -> None:
        current = await self.bot.guild_settings(interaction.guild_id)
        try:
            mapping, removed = kudos_emoji.without(current["kudos_emoji"], emoji)
            await self._store(interaction, mapping)
        except guild_settings.SettingError as exc:
            raise UserFacingError(exc.template, **exc.params) from exc
        await interaction.response.send_message(tr(interaction, "{emoji} gifts no kudos any more.",
                                                   emoji=removed.emoji), ephemeral=True)

    @kudos_emoji.command(name="list", description="The emoji that gift kudos here")
    async def kudos_emoji_list(self, interaction: discord.Interaction) -> None:
        current = await self.bot.guild_settings(interaction.guild_id)
        found = kudos_emoji.entries(current["kudos_emoji"])
        if not found:
            await interaction.response.send_message(
                tr(interaction, "No emoji gift kudos here yet. Add one with `/settings kudos-emoji add`."),
                ephemeral=True)
            return
        lines = [tr(interaction, "{emoji} **{amount}** kudos", emoji=e.emoji, amount=f"{e.amount:,}")
                 + (f" — {e.title}" if e.title else "") + (f": _{e.message}_" if e.message else "") for e in found]
        lines.append(tr(interaction, "Limits: {given} kudos given and {received} received per member per day, "
                        "{cooldown} s between gifts; acknowledged by {ack}.", given=f"{current['kudos_daily_cap']:,}",
                        received=f"{current['kudos_recipient_cap']:,}", cooldown=current["kudos_cooldown"],
                        ack=current["kudos_ack"]))
        await interaction.response.send_message("\n".join(lines), ephemeral=True)
