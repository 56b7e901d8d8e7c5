"""/party start|end|status. The host's budget is held when the party starts; every generation finished in
the channel whose prompt has the theme's words earns the award (the generate flow enters it through
`HordeService.party_entry`); the party ends when the budget is spent, or when the host (or a moderator)
ends it, and the summary is posted in the channel either way (the core's "party_ended" event)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError
from bot.guards import channel_allows_nsfw
from bot.i18n import tr, tr_for
from bot.identities import identities
from bot.settings import scope
from horde_core.service import HordeError, PartyInfo, PartySummary

log = logging.getLogger(__name__)


def _may_moderate(interaction: discord.Interaction) -> bool:
    perms = interaction.permissions
    return bool(perms.manage_guild or perms.manage_events or perms.administrator)


@app_commands.guild_only()
class PartyCog(commands.GroupCog, name="Party", group_name="party", group_description="Generation parties"):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service
        super().__init__()

    async def cog_load(self) -> None:
        self.service.events.subscribe("party_ended", self._on_party_ended)

    async def cog_unload(self) -> None:
        self.service.events.unsubscribe("party_ended", self._on_party_ended)

    @app_commands.command(name="start", description="Start a party here: you pay an award for each themed image")
    @app_commands.describe(theme="Words every entry's prompt must contain (comma-separated phrases)",
                           award="Kudos you pay for each entry", budget="The most you pay in all (held now)",
                           style="A horde style for the party: applied when members pick none")
    async def start(self, interaction: discord.Interaction, theme: app_commands.Range[str, 1, 200],
                    award: app_commands.Range[int, 1, 100_000], budget: app_commands.Range[int, 1, 10_000_000],
                    style: app_commands.Range[str, 1, 200] | None = None) -> None:
        if not _may_moderate(interaction):
            raise UserFacingError("Hosting a party needs the Manage Events (or Manage Server) permission.")
        if style:
            style = await self._style(interaction, style.strip())
        host = await self.bot.member_user(interaction.user)
        party = await self.service.start_party(host, scope(interaction.guild_id or 0), str(interaction.channel_id),
                                               theme=theme, award=award, budget=budget, style=style or "")
        embed = await self._embed(interaction, party, tr(interaction, "🎉 Party!"))
        await interaction.response.send_message(embed=embed, allowed_mentions=discord.AllowedMentions.none())

    async def _style(self, interaction: discord.Interaction, name: str) -> str:
        """The party's style, refused like a member's pick in /generate (before anything is held)."""
        try:
            limits = await self.service.style_limits(name)
        except HordeError:
            raise UserFacingError("There is no image style `{name}` on the horde.", name=name) from None
        settings = await self.bot.guild_settings(interaction.guild_id)
        if limits.nsfw and not (settings["nsfw"] == "age_restricted" and channel_allows_nsfw(interaction.channel)):
            raise UserFacingError("The style `{style}` makes NSFW images: use it in an age-restricted channel.",
                                  style=name)
        return limits.name

    @start.autocomplete("style")
    async def _styles(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"{s.name} — {s.creator}"[:100], value=s.name)
                for s in await self.service.search_styles(current, 25)]

    @app_commands.command(name="status", description="The party running in this channel")
    async def status(self, interaction: discord.Interaction) -> None:
        party = await self.service.party_in(scope(interaction.guild_id or 0), str(interaction.channel_id))
        if party is None:
            raise UserFacingError("No party is running in this channel. Start one with `/party start`.")
        embed = await self._embed(interaction, party, tr(interaction, "Party"))
        await interaction.response.send_message(embed=embed, ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="end", description="End the party in this channel (the rest of its budget goes back)")
    async def end(self, interaction: discord.Interaction) -> None:
        host = await self.bot.member_user(interaction.user)
        summary = await self.service.end_party(scope(interaction.guild_id or 0), str(interaction.channel_id), host.id,
                                               may_end_any=_may_moderate(interaction))
        await interaction.response.send_message(tr(interaction, "The party is over."), ephemeral=True)
        log.info("party %s ended by %s", summary.party.id, interaction.user.id)

    async def _embed(self, interaction: discord.Interaction, party: PartyInfo, title: str) -> discord.Embed:
        embed = discord.Embed(title=title, colour=discord.Colour.magenta(), description=tr(
            interaction, "Generate here with **{words}** in your prompt and win **{award}** kudos per image!",
            words=", ".join(party.words), award=f"{party.award:,}"))
        host = (await identities(self.bot).discord_ids([party.host_id])).get(party.host_id)
        embed.add_field(name=tr(interaction, "Host"), value=f"<@{host}>" if host else "—")
        embed.add_field(name=tr(interaction, "Budget left"), value=f"{party.escrow:,} / {party.budget:,}")
        embed.add_field(name=tr(interaction, "Entries"), value=str(party.entries))
        if party.style:
            embed.add_field(name=tr(interaction, "Style"), value=party.style)
        return embed

    async def _on_party_ended(self, payload: dict[str, Any]) -> None:
        """Post the summary where the party was (however it ended)."""
        channel = self.bot.get_channel(int(payload["channel"]))
        if channel is None:
            return
        summary = await self.service.party_summary(payload["party_id"])
        try:
            await channel.send(embed=await self._summary(summary, channel.guild),
                               allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException:
            log.warning("could not post the summary of party %s", payload["party_id"])

    async def _summary(self, summary: PartySummary, guild: discord.Guild) -> discord.Embed:
        party = summary.party
        ids = identities(self.bot)
        await ids.discord_ids({u for u, *_ in summary.entrants} | {u for _, u, *_ in summary.top_rated}
                              | {party.host_id})

        def who(user_id: int) -> str:
            found = ids.discord_id(user_id)
            return f"<@{found}>" if found else "?"

        def say(english: str, **params: Any) -> str:  # posted in the channel: in the guild's language
            return tr_for(self.bot, guild.preferred_locale, english, **params)

        why = say("its budget is spent") if party.end_reason == "budget" else say("its host ended it")
        embed = discord.Embed(title=say("🎉 The party is over: {why}", why=why), colour=discord.Colour.magenta())
        embed.description = say("Theme: **{words}**", words=", ".join(party.words))
        embed.add_field(name=say("Entries"), value=str(party.entries))
        embed.add_field(name=say("Kudos paid"), value=f"{party.paid:,}")
        if party.refunded:
            embed.add_field(name=say("Returned to the host"), value=f"{party.refunded:,}")
        if summary.entrants:
            embed.add_field(name=say("Top entrants"), inline=False, value="\n".join(
                say("{who}: {entries} entries, {kudos} kudos", who=who(u), entries=n, kudos=f"{k:,}")
                for u, n, k in summary.entrants))
        if summary.top_rated:
            embed.add_field(name=say("Top rated"), inline=False, value="\n".join(
                say("{who}: {mean} / 10 ({count} ratings)", who=who(u), mean=f"{m:.1f}", count=c)
                for _, u, m, c in summary.top_rated))
        embed.add_field(name=say("Host"), value=who(party.host_id))
        return embed

