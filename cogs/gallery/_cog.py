"""/gallery: a member's own results one at a time, newest first, privately unless they share it; a star
keeps an image past the horde's retention; each result can run again or be varied."""

from __future__ import annotations

import io
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import explain, reply_private
from bot.i18n import tr
from horde_core.service import GalleryPage, HordeError

from ._views import StarButton, page_view


class GalleryCog(commands.Cog, name="Gallery"):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service

    @app_commands.command(name="gallery", description="Your own images, newest first, with your favourites")
    @app_commands.describe(favourites="Only the images you starred", share="Show it in the channel (default: only you)")
    async def gallery(self, interaction: discord.Interaction, favourites: bool = False, share: bool = False) -> None:
        await self.show(interaction, 0, favourites, edit=False, private=not share)

    async def show(self, interaction: discord.Interaction, index: int, favourites: bool, *, edit: bool,
                   private: bool = True) -> None:
        user = await self.bot.member_user(interaction.user)
        page = await self.service.gallery_page(user.id, index, favourites_only=favourites)
        if page.entry is None:
            text = (tr(interaction, "You have starred no images yet: ⭐ one in `/gallery`.") if favourites
                    else tr(interaction, "You have no images yet: make some with `/generate`."))
            if edit:
                await interaction.response.edit_message(content=text, embed=None, attachments=[], view=None)
            else:
                await interaction.response.send_message(text, ephemeral=True)
            return
        embed = self._embed(interaction, page)
        files = []
        data = await self.service.image_bytes(page.entry.job_id) if page.entry.has_image else None
        if data:
            files.append(discord.File(io.BytesIO(data), filename="gallery.webp", spoiler=page.entry.censored))
            embed.set_image(url="attachment://gallery.webp")
        view = page_view(interaction, page, interaction.user.id, favourites)
        if edit:
            await interaction.response.edit_message(content=None, embed=embed, attachments=files, view=view)
        else:
            await interaction.response.send_message(embed=embed, files=files, view=view, ephemeral=private)

    def _embed(self, interaction: discord.Interaction, page: GalleryPage) -> discord.Embed:
        entry = page.entry
        assert entry is not None
        embed = discord.Embed(title=("⭐ " if entry.favourite else "") + tr(interaction, "Your gallery"),
                              description=entry.prompt[:4000], colour=discord.Colour.purple())
        embed.add_field(name=tr(interaction, "Model"), value=entry.model or "—")
        embed.add_field(name=tr(interaction, "Seed"), value=entry.seed or "—")
        embed.add_field(name=tr(interaction, "Made"), value=f"<t:{int(entry.finished_at)}:R>")
        if not entry.has_image:
            embed.add_field(name=tr(interaction, "Image"), inline=False, value=tr(
                interaction, "No longer kept (star results to keep them); you can still run it again."))
        embed.set_footer(text=tr(interaction, "{position} of {total}", position=page.index + 1, total=page.total))
        return embed

    async def star(self, interaction: discord.Interaction, button: StarButton) -> None:
        user = await self.bot.member_user(interaction.user)
        try:
            await self.service.set_favourite(user.id, button.job_id, button.on)
        except HordeError as exc:
            await reply_private(interaction, explain(exc, interaction))
            return
        # unstarred in the favourites: the next one moves into its place (past the end, the last one shows)
        await self.show(interaction, button.index, button.favourites, edit=True)
