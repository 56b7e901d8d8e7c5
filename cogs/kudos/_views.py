"""Buttons of /kudos: confirming a large transfer, and paging through one's history.

Both are DynamicItems: their state lives in the custom_id, so they keep working after a restart.
A confirmation also carries its deadline, so an old one can't move kudos days later, and its note
travels in the confirmation's own embed (a custom_id has no room for 100 characters of text).
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.errors import reply_private
from bot.i18n import tr

PAGE = 8
CONFIRM_FOR = 300  # seconds a confirmation stays valid
REASONS = {"gift": "emoji gift", "transfer": "transfer", "generation": "generation", "uptime": "worker uptime",
           "starting_balance": "welcome kudos", "admin_grant": "granted by an admin",
           "admin_revoke": "taken back by an admin"}


def _cog(interaction: discord.Interaction) -> Any:
    return interaction.client.get_cog("Kudos")  # type: ignore[attr-defined]


class ConfirmTransfer(discord.ui.DynamicItem[discord.ui.Button[Any]],
                      template=r"kudos:send:(?P<sender>\d+):(?P<to>\d+):(?P<amount>\d+):(?P<until>\d+):(?P<nonce>\d+)"):
    """`nonce` (the id of the /kudos transfer that asked) tells two identical transfers apart."""

    def __init__(self, sender: int, to: int, amount: int, until: int, nonce: int, label: str = "") -> None:
        super().__init__(discord.ui.Button(label=label or f"Send {amount:,} kudos", style=discord.ButtonStyle.success,
                                           custom_id=f"kudos:send:{sender}:{to}:{amount}:{until}:{nonce}"))
        self.sender, self.to, self.amount, self.until = sender, to, amount, until

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any,
                             match: re.Match[str]) -> ConfirmTransfer:
        return cls(int(match["sender"]), int(match["to"]), int(match["amount"]), int(match["until"]),
                   int(match["nonce"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.sender:
            await reply_private(interaction,
                                tr(interaction, "Only the member who started this transfer can confirm it."))
            return
        await _cog(interaction).confirm_transfer(interaction, self)


class CancelTransfer(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"kudos:cancel:(?P<sender>\d+)"):
    def __init__(self, sender: int, label: str = "Cancel") -> None:
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle.secondary,
                                           custom_id=f"kudos:cancel:{sender}"))
        self.sender = sender

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> CancelTransfer:
        return cls(int(match["sender"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=tr(interaction, "Cancelled: no kudos moved."), embed=None,
                                                view=None)


def confirm_view(interaction: discord.Interaction, sender: int, to: int, amount: int, until: int,
                 nonce: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmTransfer(sender, to, amount, until, nonce,
                                  tr(interaction, "Send {amount} kudos", amount=f"{amount:,}")))
    view.add_item(CancelTransfer(sender, tr(interaction, "Cancel")))
    return view


class HistoryPage(discord.ui.DynamicItem[discord.ui.Button[Any]],
                  template=r"kudos:history:(?P<user>\d+):(?P<page>\d+):(?P<before>\d+)"):
    """Older pages start before the last entry shown (exact and cheap); newer pages are counted from the top."""

    def __init__(self, user_id: int, page: int, before: int, *, label: str = "", disabled: bool = False) -> None:
        super().__init__(discord.ui.Button(label=label or f"Page {page + 1}", style=discord.ButtonStyle.secondary,
                                           custom_id=f"kudos:history:{user_id}:{page}:{before}", disabled=disabled))
        self.user_id, self.page, self.before = user_id, page, before

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> HistoryPage:
        return cls(int(match["user"]), int(match["page"]), int(match["before"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            await reply_private(interaction,
                                tr(interaction, "That's someone else's history; `/kudos history` shows yours."))
            return
        embed, view = await _cog(interaction).history_page(interaction, self.page, self.before)
        await interaction.response.edit_message(embed=embed, view=view)


def _line(interaction: discord.Interaction, entry: dict[str, Any]) -> str:
    amount = int(entry["amount"])
    reason = tr(interaction, REASONS.get(entry["reason"], str(entry["reason"]).replace("_", " ")))
    ref = str(entry.get("ref") or "")
    where = f" [{tr(interaction, 'message')}]({ref})" if ref.startswith("https://") else ""
    note = f" — {entry['note']}" if entry.get("note") and entry["reason"] != "gift" else ""
    return f"<t:{int(entry['at'])}:d> **{amount:+,}** {reason}{where}{note}"


def history_embed(interaction: discord.Interaction, entries: list[dict[str, Any]], page: int) -> discord.Embed:
    embed = discord.Embed(title=tr(interaction, "Your kudos history"), colour=discord.Colour.gold())
    embed.description = "\n".join(_line(interaction, e) for e in entries) or tr(interaction, "Nothing here yet.")
    embed.set_footer(text=tr(interaction, "Page {page}", page=page + 1))
    return embed


def history_view(interaction: discord.Interaction, user_id: int, page: int, entries: list[dict[str, Any]],
                 has_older: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(HistoryPage(user_id, max(page - 1, 0), 0, label=tr(interaction, "◀ Newer"), disabled=page == 0))
    last = int(entries[-1]["id"]) if entries else 0
    view.add_item(HistoryPage(user_id, page + 1, last, label=tr(interaction, "Older ▶"), disabled=not has_older))
    return view


DYNAMIC_ITEMS = (ConfirmTransfer, CancelTransfer, HistoryPage)
