"""More result buttons: run one image again exactly, remix it, star it, see every parameter, and enhance it
(upscale, fix faces, remove the background). Each is a DynamicItem whose custom_id (built in
`bot.result_actions`) carries what it acts on, so it works on any message, after any restart."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot import result_actions as ids

_VARY = re.compile(ids.VARY)


def result_jobs(message: discord.Message | None) -> list[str]:
    """The job ids of a generate result's images, in order, read from its Vary buttons (none on other messages)."""
    found: dict[int, str] = {}
    for row in getattr(message, "components", None) or []:
        for item in getattr(row, "children", []):
            match = _VARY.fullmatch(getattr(item, "custom_id", None) or "")
            if match:
                found[int(match["index"])] = match["job"]
    return [found[i] for i in sorted(found)]


def _cog(interaction: discord.Interaction) -> Any:
    return interaction.client.get_cog("Generate")  # type: ignore[attr-defined]


def _button(custom_id: str, label: str, emoji: str | None, style: discord.ButtonStyle = discord.ButtonStyle.secondary,
            row: int | None = None) -> discord.ui.Button[Any]:
    return discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=custom_id, row=row)


class ExactButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ids.EXACT):
    """This one image again: its request's settings, its own seed and model (paid by whoever clicks)."""

    def __init__(self, job_id: str, label: str = "Run again", row: int | None = None) -> None:
        super().__init__(_button(ids.exact_id(job_id), label, "🔁", discord.ButtonStyle.success, row))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> ExactButton:
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).exact(interaction, self.job_id)


class RemixButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ids.REMIX):
    """img2img from this image with a prompt and strength the member writes in a modal."""

    def __init__(self, job_id: str, label: str = "Remix", row: int | None = None) -> None:
        super().__init__(_button(ids.remix_id(job_id), label, "🎛️", row=row))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> RemixButton:
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).remix_job(interaction, self.job_id)


class StarButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ids.STAR):
    """The requester stars an image (kept past the horde's retention, in their /gallery favourites), or unstars
    it: the answer is private, so the result looks the same to everyone."""

    def __init__(self, job_id: str, label: str = "Star", row: int | None = None) -> None:
        super().__init__(_button(ids.star_id(job_id), label, "⭐", row=row))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> StarButton:
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).star(interaction, self.job_id)


class InfoButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ids.INFO):
    """Every parameter of the request, its seeds, models, workers and cost, privately to whoever asks."""

    def __init__(self, request_id: str, label: str = "Info") -> None:
        super().__init__(_button(ids.info_id(request_id), label, "📝"))
        self.request_id = request_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> InfoButton:
        return cls(match["rid"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).info(interaction, self.request_id)


class EnhanceButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ids.ENHANCE):
    """An alchemist upscales, fixes the faces of or removes the background of a stored result; the result is a
    new message, the original stays (paid by whoever clicks)."""

    def __init__(self, job_id: str, op: str, label: str = "", row: int | None = None) -> None:
        super().__init__(_button(ids.enhance_id(job_id, op), label or ids.ENHANCE_LABELS[op], ids.ENHANCE_EMOJI[op],
                                 row=row))
        self.job_id, self.op = job_id, op

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> EnhanceButton:
        return cls(match["job"], match["op"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).enhance_job(interaction, self.job_id, self.op)


class EnhancePickButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ids.ENHANCE_PICK):
    """On a result of several images: a private choice of which image to enhance, and how."""

    def __init__(self, request_id: str, label: str = "Enhance") -> None:
        super().__init__(_button(ids.enhance_pick_id(request_id), label, "✨"))
        self.request_id = request_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any,
                             match: re.Match[str]) -> EnhancePickButton:
        return cls(match["rid"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).enhance_picker(interaction, self.request_id)


class MessageEnhanceButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ids.MESSAGE_ENHANCE):
    """From "Upscale image" on any message: enhance one of its attachments (fetched again when clicked)."""

    def __init__(self, message_id: int, index: int, op: str, label: str = "", row: int | None = None) -> None:
        super().__init__(_button(ids.message_enhance_id(message_id, index, op), label or ids.ENHANCE_LABELS[op],
                                 ids.ENHANCE_EMOJI[op], row=row))
        self.message_id, self.index, self.op = message_id, index, op

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any,
                             match: re.Match[str]) -> MessageEnhanceButton:
        return cls(int(match["message"]), int(match["index"]), match["op"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).enhance_message(interaction, self.message_id, self.index, self.op)
