"""Buttons on progress and result messages, and how a result's buttons are laid out. Their state lives in the
custom_id, so they keep working after the bot restarts (discord.ui.DynamicItem); the ids are built in
`bot.result_actions`, shared with the features that offer the same actions (the gallery)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import discord

from bot import result_actions as ids
from bot.errors import reply_private
from bot.i18n import tr

from ._actions import (
    EnhanceButton,
    EnhancePickButton,
    ExactButton,
    InfoButton,
    MessageEnhanceButton,
    RemixButton,
    StarButton,
)
from ._rating import RateButton, ScoreButton

Say = Callable[[str], str]


def _cog(interaction: discord.Interaction) -> Any:
    return interaction.client.get_cog("Generate")  # type: ignore[attr-defined]


def _same(text: str) -> str:
    return text


class CancelButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"gen:cancel:(?P<rid>[0-9a-f-]{36}):(?P<user>\d+)"):
    def __init__(self, request_id: str, user_id: int, label: str = "Cancel") -> None:
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle.secondary,
                                           custom_id=f"gen:cancel:{request_id}:{user_id}"))
        self.request_id, self.user_id = request_id, user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> CancelButton:
        return cls(match["rid"], int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            await reply_private(interaction, tr(interaction, "Only the member who asked for these images can cancel "
                                                             "them."))
            return
        await _cog(interaction).cancel(interaction, self.request_id)


class RerollButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"gen:reroll:(?P<rid>[0-9a-f-]{36})"):
    """Same settings, new seed, paid by whoever clicks."""

    def __init__(self, request_id: str, label: str = "Reroll") -> None:
        super().__init__(discord.ui.Button(label=label, emoji="🎲", style=discord.ButtonStyle.primary,
                                           custom_id=f"gen:reroll:{request_id}"))
        self.request_id = request_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> RerollButton:
        return cls(match["rid"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).reroll(interaction, self.request_id, keep_seed=False)


class RetryButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ids.RERUN):
    """After a timeout: the same request again, seed included."""

    def __init__(self, request_id: str, label: str = "Retry") -> None:
        super().__init__(discord.ui.Button(label=label, emoji="🔁", style=discord.ButtonStyle.primary,
                                           custom_id=ids.rerun_id(request_id)))
        self.request_id = request_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> RetryButton:
        return cls(match["rid"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).reroll(interaction, self.request_id, keep_seed=True)


class VaryButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ids.VARY):
    """img2img from one of the results."""

    def __init__(self, job_id: str, index: int, label: str = "") -> None:
        super().__init__(discord.ui.Button(label=label or f"Vary {index + 1}", style=discord.ButtonStyle.secondary,
                                           custom_id=ids.vary_id(job_id, index)))
        self.job_id, self.index = job_id, index

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> VaryButton:
        return cls(match["job"], int(match["index"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).vary(interaction, self.job_id, self.index)


def may_delete(interaction: discord.Interaction, owner: int) -> bool:
    """The requester, or a moderator: Manage Messages, Manage Server or Administrator in this channel."""
    perms = interaction.permissions
    return interaction.user.id == owner or bool(perms.manage_messages or perms.manage_guild or perms.administrator)


class DeleteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"gen:delete:(?P<user>\d+)"):
    """The requester, or anyone who can manage messages or the server, may remove a result."""

    def __init__(self, user_id: int, label: str = "Delete") -> None:
        super().__init__(discord.ui.Button(label=label, emoji="🗑️", style=discord.ButtonStyle.danger,
                                           custom_id=f"gen:delete:{user_id}"))
        self.user_id = user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> DeleteButton:
        return cls(int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if not may_delete(interaction, self.user_id):
            await reply_private(interaction, tr(interaction, "Only the member who asked for this, or a moderator, can "
                                                             "delete it."))
            return
        await interaction.response.defer()
        # For a button, the "original response" is the message it sits on (a reply, a channel post or a DM);
        # deleting it through the interaction webhook needs no channel permission.
        await interaction.delete_original_response()


DYNAMIC_ITEMS = (CancelButton, RerollButton, RetryButton, VaryButton, DeleteButton, RateButton, ScoreButton,
                 ExactButton, RemixButton, StarButton, InfoButton, EnhanceButton, EnhancePickButton,
                 MessageEnhanceButton)


def progress_view(request_id: str, user_id: int, say: Say = _same) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(request_id, user_id, say("Cancel")))
    return view


def enhance_row(view: discord.ui.View, job_id: str, row: int, say: Say = _same, number: int | None = None) -> None:
    """Upscale x2, x4, Fix faces and Remove background for one image (numbered when there are several)."""
    for op, label in ids.ENHANCE_LABELS.items():
        text = say(label) if number is None else f"{say(label)} {number}"
        view.add_item(EnhanceButton(job_id, op, text, row=row))


def result_view(request_id: str, user_id: int, job_ids: list[str], say: Say = _same) -> discord.ui.View:
    """Row 0: Reroll, Rate, Info, Delete and (one image) Star or (several) Enhance; then Vary per image; then,
    for one image, its enhancements, or for several, a star per image."""
    view = discord.ui.View(timeout=None)
    view.add_item(RerollButton(request_id, say("Reroll")))
    view.add_item(RateButton(request_id, say("Rate")))
    view.add_item(InfoButton(request_id, say("Info")))
    view.add_item(DeleteButton(user_id, say("Delete")))
    shown = job_ids[:4]
    if len(shown) == 1:
        view.add_item(StarButton(shown[0], say("Star")))
    elif shown:
        view.add_item(EnhancePickButton(request_id, say("Enhance")))
    for index, job_id in enumerate(shown):
        item = VaryButton(job_id, index, say("Vary {number}").format(number=index + 1))
        item.item.row = 1
        view.add_item(item)
    if len(shown) == 1:
        enhance_row(view, shown[0], 2, say)
    else:
        for index, job_id in enumerate(shown):
            view.add_item(StarButton(job_id, f"{index + 1}", row=2))
    return view


def retry_view(request_id: str, say: Say = _same) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RetryButton(request_id, say("Retry")))
    return view


def enhanced_view(user_id: int, say: Say = _same) -> discord.ui.View:
    """On an enhanced image (a new message beside the original): only Delete."""
    view = discord.ui.View(timeout=None)
    view.add_item(DeleteButton(user_id, say("Delete")))
    return view
