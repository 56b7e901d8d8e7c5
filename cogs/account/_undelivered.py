"""Results the bot could post nowhere (channel gone, DMs closed): listed in /account, fetched with a button.

The button carries the delivery's id (discord.ui.DynamicItem), so it works after a restart; the core hands a
delivery only to the member it belongs to.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.errors import reply_private
from bot.i18n import tr
from horde_core.service import Delivery

SHOWN = 5  # the newest few; fetching one makes room for the next


def listing(interaction: discord.Interaction, undelivered: list[Delivery]) -> str:
    lines = []
    for index, d in enumerate(undelivered[:SHOWN], start=1):
        what = str(d.context.get("summary") or d.feature)[:80]
        lines.append(f"**{index}.** /{d.feature.split('_')[0]}: {what} (<t:{int(d.created_at)}:R>)")
    return "\n".join([*lines, tr(interaction, "I could not post these anywhere; get them here.")])


def buttons(interaction: discord.Interaction, undelivered: list[Delivery]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for index, d in enumerate(undelivered[:SHOWN], start=1):
        view.add_item(GetResultButton(d.id, index, tr(interaction, "Get {index}", index=index)))
    return view


class GetResultButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                      template=r"deliver:get:(?P<id>[0-9a-f-]{36}):(?P<index>\d)"):
    def __init__(self, delivery_id: str, index: int, label: str = "") -> None:
        super().__init__(discord.ui.Button(label=label or str(index), emoji="📬", style=discord.ButtonStyle.primary,
                                           custom_id=f"deliver:get:{delivery_id}:{index}"))
        self.delivery_id = delivery_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any,
                             match: re.Match[str]) -> GetResultButton:
        return cls(match["id"], int(match["index"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: Any = interaction.client
        user = await bot.member_user(interaction.user)
        if not await bot.deliveries.retrieve(interaction, self.delivery_id, user.id):
            await reply_private(interaction, tr(interaction, "That result was already handed to you (or it is "
                                                            "someone else's)."))
