"""Members see their horde account and get the API key their GPU worker uses.

Keys are shown only in ephemeral replies and never taken as a command option.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import role_rules
from bot.errors import UserFacingError
from bot.i18n import tr

from ._undelivered import buttons, listing


def _base_url(bot: Any) -> str:
    return f"{bot.service.public_url}/api/"


class NewKeyButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"account:newkey:(?P<user>\d+)"):
    """Makes a new API key for the member who asked; works after a restart (state in the custom_id)."""

    def __init__(self, user_id: int, label: str = "Make a new key") -> None:
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle.danger,
                                           custom_id=f"account:newkey:{user_id}"))
        self.user_id = user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> NewKeyButton:
        return cls(int(match["user"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.user_id

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: Any = interaction.client
        user = await bot.member_user(interaction.user)
        key = await bot.service.regenerate_key(user.id)
        await interaction.response.send_message(tr(
            interaction, "Your new API key (any older key has stopped working):\n`{key}`\n"
            "Horde URL for your worker: `{url}`\nKeep it secret: anyone with it can spend your kudos.",
            key=key, url=_base_url(bot)), ephemeral=True)


class AccountCog(commands.Cog):
    def __init__(self, bot: Any) -> None:
        self.bot = bot

    worker = app_commands.Group(name="worker", description="Attach GPU workers that earn kudos for you")

    @app_commands.command(name="account", description="Your kudos, requests and workers")
    async def account(self, interaction: discord.Interaction) -> None:
        user = await self.bot.member_user(interaction.user)
        info = await self.bot.service.user_info(user.id)
        embed = discord.Embed(title=tr(interaction, "{name}'s horde account", name=interaction.user.display_name),
                              colour=discord.Colour.blurple())
        embed.add_field(name=tr(interaction, "Kudos"), value=f"{info.kudos:,}")
        requests = info.records["request"]
        embed.add_field(name=tr(interaction, "Requests"), value=tr(
            interaction, "{images} images · {texts} texts · {descriptions} descriptions", images=requests["image"],
            texts=requests["text"], descriptions=requests["interrogation"]))
        embed.add_field(name=tr(interaction, "Workers"), value=str(len(info.worker_ids)))
        done = info.records["fulfillment"]
        embed.add_field(name=tr(interaction, "Served by your workers"), value=tr(
            interaction, "{images} images · {texts} texts · {forms} forms", images=done["image"], texts=done["text"],
            forms=done["interrogation"]))
        earned = await self._roles_earned(interaction)
        if earned is not None:
            embed.add_field(name=tr(interaction, "Roles earned"), value=earned or tr(interaction, "none yet"),
                            inline=False)
        embed.set_footer(text=tr(interaction, "Horde user {name}", name=info.username))
        undelivered = await self.bot.service.undelivered(user.id)
        if undelivered:
            embed.add_field(name=tr(interaction, "Undelivered results"), value=listing(interaction, undelivered),
                            inline=False)
            await interaction.response.send_message(embed=embed, view=buttons(interaction, undelivered), ephemeral=True)
            return
        await interaction.response.send_message(embed=embed, ephemeral=True)

    async def _roles_earned(self, interaction: discord.Interaction) -> str | None:
        """The roles this member holds that the server's role rules hand out (None: the server has none)."""
        if interaction.guild_id is None:
            return None
        settings = await self.bot.guild_settings(interaction.guild_id)
        managed = {rule.role_id for rule in role_rules.rules(settings["role_rules"])}
        if not managed:
            return None
        roles = getattr(interaction.user, "roles", [])
        return ", ".join(r.mention for r in roles if r.id in managed)

    @worker.command(name="key", description="Get the API key your GPU worker uses (shown only to you)")
    async def worker_key(self, interaction: discord.Interaction) -> None:
        await self.bot.member_user(interaction.user)
        view = discord.ui.View(timeout=None)
        view.add_item(NewKeyButton(interaction.user.id, tr(interaction, "Make a new key")))
        await interaction.response.send_message(tr(
            interaction, "A worker (reGen, the KoboldAI bridge, any AI Horde worker) attaches with an API key and "
            "earns kudos for you. Point it at `{url}`.\nKeys are stored hashed, so an old key cannot be shown again: "
            "make a new one below. It replaces any key you had.", url=_base_url(self.bot)), view=view, ephemeral=True)

    @worker.command(name="list", description="Your workers and what they have done")
    async def worker_list(self, interaction: discord.Interaction) -> None:
        user = await self.bot.member_user(interaction.user)
        info = await self.bot.service.user_info(user.id)
        if not info.worker_ids:
            raise UserFacingError("You have no workers yet. Use `/worker key` to attach one.")
        lines = []
        for worker_id in info.worker_ids:
            w = await self.bot.service.get_worker(worker_id)
            state = tr(interaction, "online") if w.online else tr(interaction, "offline")
            if w.maintenance_mode:
                state = tr(interaction, "maintenance")
            lines.append(tr(interaction, "**{name}** ({kind}, {state}) — {jobs} jobs, {kudos} kudos", name=w.name,
                            kind=w.kind, state=state, jobs=w.requests_fulfilled,
                            kudos=f"{w.kudos_generated + w.kudos_uptime:,}"))
        await interaction.response.send_message("\n".join(lines), ephemeral=True)
