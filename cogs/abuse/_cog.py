"""/abuse: strikes are tracked per member and per guild, so admins can see who earned them, clear
them, and the bot's owners can suspend or lift a guild. Sanctions are announced in the guild's
alert channel."""

from __future__ import annotations

import logging
import time
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError

log = logging.getLogger(__name__)


def community(guild_id: int) -> str:
    return f"discord:{guild_id}"


def _when(at: float) -> str:
    return f"<t:{int(at)}:R>"


def _member(subject: str) -> str:
    """`member:discord:<guild>:<user>` as a mention."""
    return f"<@{subject.rsplit(':', 1)[-1]}>" if subject.startswith("member:") else subject


class AbuseCog(commands.GroupCog, group_name="abuse", group_description="Strikes and sanctions"):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service
        super().__init__()
        self.service.events.subscribe("community_sanction", self._on_sanction)

    async def cog_unload(self) -> None:
        self.service.events.unsubscribe("community_sanction", self._on_sanction)

    async def _on_sanction(self, payload: dict[str, Any]) -> None:
        """Tell the guild's alert channel (if it set one) that it was throttled, suspended or lifted."""
        platform, _, guild_id = payload["community"].partition(":")
        if platform != "discord" or not guild_id.isdigit():
            return
        settings = await self.bot.guild_settings(int(guild_id))
        channel = self.bot.get_channel(settings["alert_channel"]) if settings["alert_channel"] else None
        if channel is None:
            return
        text = {"throttled": "Image generation is **throttled** here: members sent requests against the rules.",
                "suspended": "Image generation is **suspended** here after repeated requests against the rules.",
                "lifted": "Image generation is available again."}.get(payload["state"], payload["state"])
        try:
            await channel.send(f"⚠️ {text} Admins: `/abuse list` shows the strikes.")
        except discord.HTTPException:
            log.warning("could not alert guild %s", guild_id)

    async def _owner(self, interaction: discord.Interaction) -> None:
        if interaction.user.id not in self.bot.config.bot.owner_ids:
            raise UserFacingError("Only the bot's operators can do this.")

    def _admin(self, interaction: discord.Interaction) -> None:
        perms = interaction.permissions
        if not (perms.manage_guild or perms.administrator):
            raise app_commands.MissingPermissions(["manage_guild"])

    @app_commands.command(name="list", description="This server's live strikes")
    @app_commands.guild_only()
    async def list_(self, interaction: discord.Interaction) -> None:
        self._admin(interaction)
        strikes = await self.service.community_strikes(community(interaction.guild_id or 0))
        if not strikes:
            await interaction.response.send_message("No live strikes in this server.", ephemeral=True)
            return
        lines = [f"{_when(s['at'])} {_member(s['subject'])}: {s['reason'].replace('_', ' ')}" for s in strikes[:25]]
        await interaction.response.send_message("\n".join(lines), ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="clear", description="Clear this server's strikes (or one member's)")
    @app_commands.guild_only()
    async def clear(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        self._admin(interaction)
        guild = community(interaction.guild_id or 0)
        subject = f"member:{guild}:{member.id}" if member else None
        cleared = await self.service.clear_community_strikes(guild, subject)
        await interaction.response.send_message(f"Cleared {cleared} strike(s).", ephemeral=True)

    @app_commands.command(name="report", description="Operators: penalties in every server")
    async def report(self, interaction: discord.Interaction) -> None:
        await self._owner(interaction)
        penalties = await self.service.penalties()
        lines = [f"`{p['key']}` {p['state']} until {_when(p['until'])}{' (manual)' if p['manual'] else ''}"
                 for p in penalties[:40]]
        await interaction.response.send_message("\n".join(lines) or "No penalties anywhere.", ephemeral=True)

    @app_commands.command(name="suspend", description="Operators: suspend a server from generation")
    async def suspend(self, interaction: discord.Interaction, guild_id: str, hours: app_commands.Range[int, 1, 8760]
                      ) -> None:
        await self._owner(interaction)
        if not guild_id.isdigit():
            raise UserFacingError("Give the server's numeric id.")
        await self.service.set_community_sanction(community(int(guild_id)), "suspended", hours * 3600.0,
                                                  f"discord:{interaction.user.id}")
        await interaction.response.send_message(f"Server {guild_id} is suspended until "
                                                f"{_when(time.time() + hours * 3600)}.", ephemeral=True)

    @app_commands.command(name="lift", description="Operators: lift a server's suspension or throttle")
    async def lift(self, interaction: discord.Interaction, guild_id: str) -> None:
        await self._owner(interaction)
        if not guild_id.isdigit():
            raise UserFacingError("Give the server's numeric id.")
        await self.service.set_community_sanction(community(int(guild_id)), None, 0, f"discord:{interaction.user.id}")
        await interaction.response.send_message(f"Server {guild_id} can generate again.", ephemeral=True)
