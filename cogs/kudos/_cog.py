"""Kudos as a social currency: emoji gifts, and /kudos balance, transfer, history and top."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError, explain
from bot.i18n import tr
from bot.identities import identities
from bot.kudos_emoji import lookup
from horde_core.service import HordeError

from ._gifts import GiftDesk, community
from ._views import CONFIRM_FOR, PAGE, ConfirmTransfer, confirm_view, history_embed, history_view

log = logging.getLogger(__name__)
TOP = 10


def _name(discord_id: int | None) -> str:
    return f"<@{discord_id}>" if discord_id else "a former member"


@app_commands.guild_only()
class KudosCog(commands.GroupCog, name="Kudos", group_name="kudos", group_description="Your kudos and gifts"):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service
        self.desk = GiftDesk(bot)
        self._spent: dict[str, int] = {}  # confirmations used (until their deadline): a double click pays once
        super().__init__()

    # ------------------------------------------------------------------ emoji gifts

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """Raw, so reactions on messages the bot never cached (older ones, interaction replies) count too."""
        sender = payload.member
        if payload.guild_id is None or sender is None or sender.bot or payload.user_id == self.bot.user.id:
            return
        settings = await self.bot.guild_settings(payload.guild_id)
        entry = lookup(settings["kudos_emoji"], payload.emoji)
        guild = self.bot.get_guild(payload.guild_id)
        if entry is None or guild is None:
            return
        channel = guild.get_channel_or_thread(payload.channel_id)
        if channel is None:
            return
        await self.desk.give(guild, channel, payload, sender, entry, settings)

    async def settings_warnings(self, guild: discord.Guild) -> list[str]:
        """Seen in /settings show: refused gifts keep their reaction without Manage Messages."""
        settings = await self.bot.guild_settings(guild.id)
        perms = guild.me.guild_permissions
        if settings["kudos_emoji"] and not (perms.manage_messages or perms.administrator):
            return ["I need the **Manage Messages** permission to remove the reactions of refused kudos gifts "
                    "(senders are still told by DM)."]
        return []

    # ------------------------------------------------------------------ commands

    @app_commands.command(name="balance", description="How many kudos you (or another member) have")
    @app_commands.describe(member="Whose balance (default: yours)")
    async def balance(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        target = member or interaction.user
        if target.bot:
            raise UserFacingError("Bots have no kudos.")
        row = await identities(self.bot).user(target)
        if target.id == interaction.user.id:
            text = tr(interaction, "You have **{kudos}** kudos.", kudos=f"{row.kudos:,}")
        else:
            text = tr(interaction, "{member} has **{kudos}** kudos.", member=target.mention, kudos=f"{row.kudos:,}")
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="transfer", description="Give some of your kudos to another member")
    @app_commands.describe(member="Who receives them", amount="How many kudos", note="Why (kept in both ledgers)")
    async def transfer(self, interaction: discord.Interaction, member: discord.Member,
                       amount: app_commands.Range[int, 1, 10**9],
                       note: app_commands.Range[str, 1, 100] | None = None) -> None:
        if member.bot:
            raise UserFacingError("Bots can't receive kudos.")
        if member.id == interaction.user.id:
            raise UserFacingError("You can't transfer kudos to yourself.")
        settings = await self.bot.guild_settings(interaction.guild_id)
        if amount < settings["kudos_confirm_at"]:
            await self._send(interaction.user, member, amount, note or "")
            await interaction.response.send_message(
                tr(interaction, "Sent **{amount}** kudos to {member}.", amount=f"{amount:,}", member=member.mention),
                ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
            return
        until = int(self.service.clock.now()) + CONFIRM_FOR
        embed = discord.Embed(title=tr(interaction, "Confirm the transfer"), colour=discord.Colour.gold(),
                              description=tr(interaction, "Send **{amount}** kudos to {member}?", amount=f"{amount:,}",
                                             member=member.mention))
        if note:
            embed.add_field(name="Note", value=note)  # read back by the confirmation: not translated
        embed.set_footer(text=tr(interaction, "This confirmation expires in 5 minutes."))
        await interaction.response.send_message(embed=embed, ephemeral=True,
                                                view=confirm_view(interaction, interaction.user.id, member.id,
                                                                  amount, until, interaction.id))

    async def _send(self, sender: discord.abc.User, recipient: discord.abc.User, amount: int, note: str) -> None:
        ids = identities(self.bot)
        sender_row = await ids.user(sender)
        recipient_row = await ids.user(recipient)
        await self.service.transfer_kudos(sender_row, str(recipient_row.id), amount, note)
        text = f"🎁 {sender.display_name} sent you **{amount:,}** kudos" + (f": {note}" if note else ".")
        try:
            await recipient.send(text, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException:
            log.info("could not tell %s about a transfer", recipient.id)

    async def confirm_transfer(self, interaction: discord.Interaction, item: ConfirmTransfer) -> None:
        """The confirmation button: once, before its deadline, to a member who is still here."""
        custom_id = item.item.custom_id or ""
        now = self.service.clock.now()
        self._spent = {k: until for k, until in self._spent.items() if until >= now}
        if custom_id in self._spent:
            await interaction.response.edit_message(content=tr(interaction, "This transfer was already sent."),
                                                    embed=None, view=None)
            return
        if now > item.until:
            expired = tr(interaction, "This confirmation expired: run `/kudos transfer` again.")
            await interaction.response.edit_message(content=expired, embed=None, view=None)
            return
        recipient = interaction.guild.get_member(item.to) if interaction.guild else None
        if recipient is None:
            gone = tr(interaction, "That member is no longer here.")
            await interaction.response.edit_message(content=gone, embed=None, view=None)
            return
        embeds = interaction.message.embeds if interaction.message else []
        note = next((f.value for e in embeds for f in e.fields if f.name == "Note"), "") or ""
        self._spent[custom_id] = item.until
        try:
            await self._send(interaction.user, recipient, item.amount, note)
        except (HordeError, UserFacingError) as exc:
            self._spent.pop(custom_id, None)
            await interaction.response.edit_message(content=explain(exc, interaction), embed=None, view=None)
            return
        sent = tr(interaction, "Sent **{amount}** kudos to {member}.", amount=f"{item.amount:,}",
                  member=recipient.mention)
        await interaction.response.edit_message(content=sent, embed=None, view=None,
                                                allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="history", description="Where your kudos came from and went (only you see it)")
    async def history(self, interaction: discord.Interaction) -> None:
        embed, view = await self.history_page(interaction, 0, 0)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    async def history_page(self, interaction: discord.Interaction, page: int,
                           before: int) -> tuple[discord.Embed, discord.ui.View]:
        user = interaction.user
        core_id = (await identities(self.bot).user(user)).id
        if before:
            rows = await self.service.kudos_history(core_id, limit=PAGE + 1, before_id=before)
        else:  # counted from the newest entry: how "Newer" gets back without remembering every page
            rows = (await self.service.kudos_history(core_id, limit=(page + 1) * PAGE + 1))[page * PAGE:]
        entries = rows[:PAGE]
        return (history_embed(interaction, entries, page),
                history_view(interaction, user.id, page, entries, len(rows) > PAGE))

    @app_commands.command(name="top", description="This server's most generous members, and its workers")
    async def top(self, interaction: discord.Interaction) -> None:
        assert interaction.guild is not None
        await interaction.response.defer(thinking=True)
        ids = identities(self.bot)
        members = await ids.resolve_guild(interaction.guild)
        board = await self.service.gift_leaderboard(community(interaction.guild.id), limit=TOP)
        earned = await self.service.worker_earnings(sorted(set(members.values())), limit=TOP)
        await ids.discord_ids({user_id for rows in (*board.values(), earned) for user_id, _ in rows})
        embed = discord.Embed(title=tr(interaction, "Kudos in {guild}", guild=interaction.guild.name),
                              colour=discord.Colour.gold())
        for title, rows in ((tr(interaction, "Most given"), board["given"]),
                            (tr(interaction, "Most received"), board["received"]),
                            (tr(interaction, "Earned by workers"), earned)):
            lines = [f"{i}. {_name(ids.discord_id(user_id))} — **{kudos:,}**" for i, (user_id, kudos)
                     in enumerate(rows, 1)]
            embed.add_field(name=title, value="\n".join(lines) or tr(interaction, "nobody yet"), inline=True)
        await interaction.followup.send(embed=embed, allowed_mentions=discord.AllowedMentions.none())
