"""Describe image: alt text for an image, written by an alchemist worker, from a slash command or a message.

The caption is offered as alt text because that is what most members want it for: making an image
readable for people using screen readers. Guilds that want it also get an NSFW verdict. The answer is owed
like any result: queued with a note of where it goes, delivered by the courier (see `_delivery.py`).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError, explain, reply_private
from bot.guards import refusal, refuse_after_defer
from bot.members import CLIENT_AGENT, proxied_account
from horde_core.service.schemas import AlchemyRequestSpec

from ._delivery import FEATURE, Descriptions

MAX_IMAGE_BYTES = 8 * 1024 * 1024


def pick_image(attachments: Sequence[discord.Attachment]) -> discord.Attachment:
    """The first attachment we can describe, or a refusal saying what would work."""
    if not attachments:
        raise UserFacingError("That message has no attached image to describe.")
    images = [a for a in attachments if (a.content_type or "").startswith("image/")]
    if not images:
        kind = attachments[0].content_type or "an unknown kind of file"
        raise UserFacingError(f"I can describe images only (PNG, JPEG, WebP…); that is {kind}.")
    small = [a for a in images if a.size <= MAX_IMAGE_BYTES]
    if not small:
        raise UserFacingError("That image is larger than 8 MB. Try a smaller copy of it.")
    return small[0]


class DescribeCog(commands.Cog, name="Describe"):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service
        self.deliveries = bot.deliveries
        # Context menus cannot be declared inside a cog class; this one is added and removed with the cog.
        self.menu = app_commands.ContextMenu(name="Describe image", callback=self.describe_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)
        self.deliveries.register(FEATURE, Descriptions(self.service))

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)
        self.deliveries.unregister(FEATURE)

    @app_commands.command(name="describe", description="Alt text for an image, written by an AI worker")
    @app_commands.describe(image="The image to describe", public="Show the answer to everyone (default: only you)")
    async def describe(self, interaction: discord.Interaction, image: discord.Attachment,
                       public: bool = False) -> None:
        await self._run(interaction, [image], public=public)

    async def describe_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        await self._run(interaction, message.attachments, public=False)

    async def _run(self, interaction: discord.Interaction, attachments: Sequence[discord.Attachment], *,
                   public: bool) -> None:
        try:
            image = pick_image(attachments)  # nothing to wait for: refuse at once
        except UserFacingError as exc:
            await reply_private(interaction, str(exc))
            return
        ack = await interaction.response.defer(thinking=True, ephemeral=not public)
        try:
            await self._describe(interaction, image, public, getattr(ack, "message_id", None))
        except Exception as exc:  # after the deferral, every refusal and failure ends privately
            if public:
                await refuse_after_defer(interaction, exc)
            else:
                await interaction.edit_original_response(content=explain(exc))

    async def _describe(self, interaction: discord.Interaction, image: discord.Attachment, public: bool,
                        reply: int | None) -> None:
        settings = await self.bot.guild_settings(interaction.guild_id)
        why = refusal(settings, "describe", "Describing images", interaction.channel, interaction.channel_id)
        if why:
            raise UserFacingError(why)
        local = {m.name for m in await self.service.models_status("interrogation") if m.count}
        upstream = self.service.upstream_serves_model
        served = {f for f in ("caption", "nsfw") if f in local or upstream("interrogation", f)}
        if "caption" not in served:
            raise UserFacingError("No alchemist (the kind of worker that describes images) is online right now. "
                                  "Try again later.")
        checked = bool(settings["describe_nsfw_check"])
        forms = ["caption", "nsfw"] if checked and "nsfw" in served else ["caption"]
        source = base64.b64encode(await image.read()).decode()
        spec = AlchemyRequestSpec.model_validate({
            "forms": [{"name": form} for form in forms], "source_image": source,
            "proxied_account": proxied_account(interaction.guild_id, interaction.user.id)})
        user = await self.bot.member_user(interaction.user)
        deliver = await self.deliveries.spec(interaction, FEATURE, reply=reply, long_queues=settings["long_queues"],
                                             private=not public,
                                             context={"checked": checked, "summary": image.filename[:80]})
        rid = await self.service.request_interrogation(user, spec, client_agent=CLIENT_AGENT, deliver=deliver)
        await self.deliveries.deliver(rid)

