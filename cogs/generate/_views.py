"""Buttons on progress and result messages. Their state lives in the custom_id, so they keep
working after the bot restarts (discord.ui.DynamicItem)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.errors import reply_private

from ._rating import RateButton, ScoreButton


def _cog(interaction: discord.Interaction) -> Any:
    return interaction.client.get_cog("Generate")  # type: ignore[attr-defined]


class CancelButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"gen:cancel:(?P<rid>[0-9a-f-]{36}):(?P<user>\d+)"):
    def __init__(self, request_id: str, user_id: int) -> None:
        super().__init__(discord.ui.Button(label="Cancel", style=discord.ButtonStyle.secondary,
                                           custom_id=f"gen:cancel:{request_id}:{user_id}"))
        self.request_id, self.user_id = request_id, user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> CancelButton:
        return cls(match["rid"], int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            await reply_private(interaction, "Only the member who asked for these images can cancel them.")
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


class RetryButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"gen:retry:(?P<rid>[0-9a-f-]{36})"):
    """After a timeout: the same request again, seed included."""

    def __init__(self, request_id: str) -> None:
        super().__init__(discord.ui.Button(label="Retry", emoji="🔁", style=discord.ButtonStyle.primary,
                                           custom_id=f"gen:retry:{request_id}"))
        self.request_id = request_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> RetryButton:
        return cls(match["rid"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).reroll(interaction, self.request_id, keep_seed=True)


class VaryButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                 template=r"gen:vary:(?P<job>[0-9a-f-]{36}):(?P<index>\d)"):
    """img2img from one of the results."""

    def __init__(self, job_id: str, index: int) -> None:
        super().__init__(discord.ui.Button(label=f"Vary {index + 1}", style=discord.ButtonStyle.secondary,
                                           custom_id=f"gen:vary:{job_id}:{index}"))
        self.job_id, self.index = job_id, index

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> VaryButton:
        return cls(match["job"], int(match["index"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).vary(interaction, self.job_id, self.index)


class DeleteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"gen:delete:(?P<user>\d+)"):
    """The requester, or anyone who can manage messages, may remove a result."""

    def __init__(self, user_id: int) -> None:
        super().__init__(discord.ui.Button(label="Delete", emoji="🗑️", style=discord.ButtonStyle.danger,
                                           custom_id=f"gen:delete:{user_id}"))
        self.user_id = user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> DeleteButton:
        return cls(int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        allowed = interaction.user.id == self.user_id or interaction.permissions.manage_messages
        if not allowed:
            await reply_private(interaction, "Only the member who asked for this, or a moderator, can delete it.")
            return
        await interaction.response.defer()
        # For a button, the "original response" is the message it sits on; deleting it through the
        # interaction webhook needs no channel permission.
        await interaction.delete_original_response()


DYNAMIC_ITEMS = (CancelButton, RerollButton, RetryButton, VaryButton, DeleteButton, RateButton, ScoreButton)


def progress_view(request_id: str, user_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(request_id, user_id))
    return view


def result_view(request_id: str, user_id: int, job_ids: list[str]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RerollButton(request_id))
    view.add_item(RateButton(request_id))
    view.add_item(DeleteButton(user_id))
    for index, job_id in enumerate(job_ids[:4]):
        item = VaryButton(job_id, index)
        item.item.row = 1
        view.add_item(item)
    return view


def retry_view(request_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RetryButton(request_id))
    return view
