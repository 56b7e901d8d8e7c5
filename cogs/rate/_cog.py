"""/rate: members score images others shared, one at a time, for kudos.

The answer is ephemeral (a rating is private) and every click edits that same message: the reward
for the last score, then the next image with fresh buttons. Discord cannot fetch the core's own
URLs, so each image is attached as a file. Clicks are acknowledged before the core is asked
anything, so a busy database never makes Discord show "This interaction failed".
"""

from __future__ import annotations

import io
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import explain, reply_private
from bot.guards import channel_allows_nsfw
from bot.members import CLIENT_AGENT
from horde_core.service import HordeError, UserRow

from ._views import MAX_MODEL, rating_view

NOTHING_LEFT = "Nothing left to rate — come back later."
MAY_BE_NSFW = ("The next image waiting for a rating may be NSFW, and I show those only in an age-restricted "
               "channel. Run `/rate` in one, or come back later.")
# Refusals after which the member simply goes on with the next image: a double click, an image that
# left the pool while they looked at it. Anything else (slow down, ...) keeps the image on screen.
MOVE_ON = {"AlreadyRated": "You had rated that image already, so it earned nothing more.",
           "ImageNotFound": "That image has left the rating pool, so it was not rated."}


def reward_line(earned: int) -> str:
    if earned:
        return f"Thanks! You earned {earned} kudos."
    return ("Thanks, your rating is recorded. It earned no kudos this time: rating rewards stop at a daily "
            "limit, and raters whose scores keep disagreeing with everyone else's earn none.")


def prompt_line(image: dict[str, Any], model_filter: str | None) -> str:
    only = f" (showing only `{model_filter}` images)" if model_filter else ""
    origin = f"Made with `{image['model']}`" if image.get("model") else f"From the `{image.get('dataset')}` dataset"
    return (f"**How good is this image?** {origin}{only}. Score it 1 (poor) to 10 (superb).\n"
            "Optional, before scoring: how many artifacts (distorted hands or faces, garbled text, seams) "
            "do you see, 0 (none) to 5 (severe)? An artifacts score earns a little more.")


class RateCog(commands.Cog, name="Rate"):
    def __init__(self, bot: Any) -> None:
        self.bot = bot

    @app_commands.command(name="rate", description="Rate images members shared, one at a time, for kudos")
    @app_commands.describe(model="Only images made with this model")
    async def rate(self, interaction: discord.Interaction,
                   model: app_commands.Range[str, 1, MAX_MODEL] | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        user = await self.bot.member_user(interaction.user)
        await self.show_next(interaction, user, (model or "").strip() or None)

    async def score(self, interaction: discord.Interaction, image_id: str, score: int, artifacts: int | None,
                    model: str | None) -> None:
        """A score button: record the rating, then show the reward and the next image in the same message."""
        await interaction.response.defer()
        user = await self.bot.member_user(interaction.user)
        try:
            earned = await self.bot.service.rate_shared(user, image_id, score, artifacts, client_agent=CLIENT_AGENT)
        except HordeError as exc:
            if exc.rc not in MOVE_ON:
                await reply_private(interaction, explain(exc))
                return
            note = MOVE_ON[exc.rc]
        else:
            note = reward_line(earned)
        await self.show_next(interaction, user, model, note)

    async def show_next(self, interaction: discord.Interaction, user: UserRow, model: str | None,
                        note: str = "") -> None:
        """Edit the (deferred) response into the next image to rate, or say that none is left."""
        service = self.bot.service
        lead = f"{note}\n" if note else ""
        nsfw_here = await self._nsfw_allowed(interaction)
        image = await service.next_to_rate(user, model=model, sfw_only=not nsfw_here)
        if image is None:
            await interaction.edit_original_response(content=lead + NOTHING_LEFT, attachments=[], view=None)
            return
        outline, data = await service.job_outline(image["id"])
        if outline["nsfw"] and not outline["censor_nsfw"] and not nsfw_here:  # a backstop: the pick skips them
            await interaction.edit_original_response(content=lead + MAY_BE_NSFW, attachments=[], view=None)
            return
        if data is None:  # pruned between the two reads; the pool keeps shared images, so this is rare
            await interaction.edit_original_response(content=lead + "That image is gone; run `/rate` again.",
                                                     attachments=[], view=None)
            return
        file = discord.File(io.BytesIO(data), filename="rate.webp", description="An image shared for rating")
        await interaction.edit_original_response(content=lead + prompt_line(image, model),
                                                 attachments=[file], view=rating_view(image["id"], model=model))

    async def _nsfw_allowed(self, interaction: discord.Interaction) -> bool:
        """As for /generate: only where the server allows NSFW and the channel is age-restricted."""
        settings = await self.bot.guild_settings(interaction.guild_id)
        return settings["nsfw"] == "age_restricted" and channel_allows_nsfw(interaction.channel)
