"""Gallery buttons: newer/older, star, and running a result again. Paging and starring are DynamicItems with
their state in the custom_id (owner, favourites-only, position), so they work after a restart.

Re-run and Vary are the generate feature's own restart-proof buttons (`gen:retry:<request>` runs the same
request again, seed included; `gen:vary:<job>:<n>` starts img2img from the image): the gallery offers them
and /generate delivers, so there is one delivery path.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.errors import reply_private
from bot.i18n import tr
from horde_core.service import GalleryPage


def _cog(interaction: discord.Interaction) -> Any:
    return interaction.client.get_cog("Gallery")  # type: ignore[attr-defined]


async def _owner_only(interaction: discord.Interaction, owner: int) -> bool:
    if interaction.user.id == owner:
        return True
    await reply_private(interaction, tr(interaction, "This is someone else's gallery; `/gallery` shows yours."))
    return False


class PageButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                 template=r"gal:go:(?P<user>\d+):(?P<fav>[01]):(?P<index>\d+):(?P<way>[no])"):
    def __init__(self, user_id: int, favourites: bool, index: int, way: str, label: str = "",
                 disabled: bool = False) -> None:
        super().__init__(discord.ui.Button(
            label=label or way, emoji="◀️" if way == "n" else "▶️", style=discord.ButtonStyle.secondary,
            disabled=disabled, custom_id=f"gal:go:{user_id}:{int(favourites)}:{index}:{way}"))
        self.user_id, self.favourites, self.index = user_id, favourites, index

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> PageButton:
        return cls(int(match["user"]), match["fav"] == "1", int(match["index"]), match["way"])

    async def callback(self, interaction: discord.Interaction) -> None:
        if await _owner_only(interaction, self.user_id):
            await _cog(interaction).show(interaction, self.index, self.favourites, edit=True)


class StarButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                 template=r"gal:star:(?P<user>\d+):(?P<fav>[01]):(?P<index>\d+):(?P<job>[0-9a-f-]{36}):(?P<on>[01])"):
    def __init__(self, user_id: int, favourites: bool, index: int, job_id: str, on: bool, label: str = "") -> None:
        super().__init__(discord.ui.Button(
            label=label or ("star" if on else "unstar"), emoji="⭐" if on else "✖️",
            style=discord.ButtonStyle.primary if on else discord.ButtonStyle.secondary,
            custom_id=f"gal:star:{user_id}:{int(favourites)}:{index}:{job_id}:{int(on)}"))
        self.user_id, self.favourites, self.index, self.job_id, self.on = user_id, favourites, index, job_id, on

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> StarButton:
        return cls(int(match["user"]), match["fav"] == "1", int(match["index"]), match["job"], match["on"] == "1")

    async def callback(self, interaction: discord.Interaction) -> None:
        if await _owner_only(interaction, self.user_id):
            await _cog(interaction).star(interaction, self)


def rerun_id(request_id: str) -> str:
    """The generate feature's Retry button: the same request again, seed included."""
    return f"gen:retry:{request_id}"


def vary_id(job_id: str) -> str:
    """The generate feature's Vary button: img2img from the image (the first attachment of this message)."""
    return f"gen:vary:{job_id}:0"


def page_view(interaction: discord.Interaction, page: GalleryPage, user_id: int, favourites: bool
              ) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    entry = page.entry
    last = page.index >= page.total - 1
    view.add_item(PageButton(user_id, favourites, max(0, page.index - 1), "n", tr(interaction, "Newer"),
                             disabled=page.index == 0))
    view.add_item(PageButton(user_id, favourites, min(page.total - 1, page.index + 1), "o", tr(interaction, "Older"),
                             disabled=last))
    if entry is None:
        return view
    view.add_item(StarButton(user_id, favourites, page.index, entry.job_id, not entry.favourite,
                             tr(interaction, "Unstar") if entry.favourite else tr(interaction, "Star")))
    view.add_item(discord.ui.Button(label=tr(interaction, "Run again"), emoji="🔁", style=discord.ButtonStyle.success,
                                    custom_id=rerun_id(entry.request_id), row=1))
    if entry.has_image:
        view.add_item(discord.ui.Button(label=tr(interaction, "Vary"), emoji="🎨", style=discord.ButtonStyle.secondary,
                                        custom_id=vary_id(entry.job_id), row=1))
    return view


DYNAMIC_ITEMS = (PageButton, StarButton)
