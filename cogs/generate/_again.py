"""Making more from a result: Reroll and Retry (the request again), Vary (img2img from an image), Run again
(one image exactly: its seed and model), Remix (img2img with a prompt and strength from a modal, on a result,
in the gallery, or on any image through the "Remix image" context menu), Star, and Info.

Whoever clicks pays, in their own name, checked and delivered like /generate (through `GenerateCog._submit`).
"""

from __future__ import annotations

import asyncio
import base64
import io
from typing import Any

import discord

from bot.errors import UserFacingError, explain, reply_private
from bot.i18n import tr
from bot.images import MAX_IMAGE_BYTES, pick_image
from bot.members import proxied_account
from horde_core.service import HordeError, RequestNotFound

from . import _requests as requests
from ._actions import result_jobs
from ._info import info_embed
from ._options import GenerateOptions, build_request

MAX_STRENGTH_TEXT = 4


def _image_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size


class RemixModal(discord.ui.Modal):
    """The prompt (filled in with the image's own) and how far to move from the image."""

    def __init__(self, interaction: discord.Interaction, source: Any, prompt: str) -> None:
        super().__init__(title=tr(interaction, "Remix image")[:45], timeout=15 * 60,
                         custom_id=f"gen:remix-modal:{interaction.id}")
        self.source = source  # a job id (str) or a discord.Attachment
        self.prompt: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=tr(interaction, "Prompt")[:45], style=discord.TextStyle.paragraph, default=prompt[:1000] or None,
            max_length=1000, required=True, custom_id="remix-prompt")
        self.strength: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=tr(interaction, "Strength: 0.01 (close) to 1 (far)")[:45], default=str(requests.DEFAULT_STRENGTH),
            max_length=MAX_STRENGTH_TEXT, required=True, custom_id="remix-strength")
        self.add_item(self.prompt)
        self.add_item(self.strength)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("Generate")  # type: ignore[attr-defined]
        await cog.remix(interaction, self.source, self.prompt.value, self.strength.value)


class AgainMixin:
    """Methods of GenerateCog (it provides bot, service, _guarded, _submit, _nsfw)."""

    bot: Any
    service: Any

    def _proxied(self, interaction: discord.Interaction) -> str:
        return proxied_account(interaction.guild_id, interaction.user.id)

    async def reroll(self, interaction: discord.Interaction, rid: str, *, keep_seed: bool) -> None:
        ack = await interaction.response.defer(thinking=True)
        await self._guarded(interaction, self._again(  # type: ignore[attr-defined]
            interaction, rid, getattr(ack, "message_id", None), keep_seed=keep_seed))

    async def _source_of(self, outline: dict[str, Any]) -> str | None:
        """An img2img request runs again from the image it started from."""
        if not outline.get("img2img") or not outline.get("request_id"):
            return None
        data = await self.service.request_source(outline["request_id"])
        return base64.b64encode(data).decode() if data else None

    async def _again(self, interaction: discord.Interaction, rid: str, reply: int | None, *, keep_seed: bool) -> None:
        outline = await self.service.request_outline(rid)
        settings = await self.bot.guild_settings(interaction.guild_id)
        request = requests.again(outline, nsfw=self._nsfw(settings, interaction),  # type: ignore[attr-defined]
                                 proxied_account=self._proxied(interaction), keep_seed=keep_seed,
                                 source_b64=await self._source_of(outline))
        await self._submit(interaction, request, settings, reply)  # type: ignore[attr-defined]

    async def exact(self, interaction: discord.Interaction, job_id: str) -> None:
        ack = await interaction.response.defer(thinking=True)
        await self._guarded(interaction, self._exact(  # type: ignore[attr-defined]
            interaction, job_id, getattr(ack, "message_id", None)))

    async def _exact(self, interaction: discord.Interaction, job_id: str, reply: int | None) -> None:
        outline, _ = await self.service.job_outline(job_id)
        if not outline.get("request_id"):
            raise UserFacingError("That image was not made here, so it cannot run again.")
        settings = await self.bot.guild_settings(interaction.guild_id)
        request = requests.again(outline, nsfw=self._nsfw(settings, interaction),  # type: ignore[attr-defined]
                                 proxied_account=self._proxied(interaction), keep_seed=False, n=1,
                                 seed=outline["job_seed"], model=outline["job_model"] or None,
                                 source_b64=await self._source_of(outline))
        await self._submit(interaction, request, settings, reply)  # type: ignore[attr-defined]

    async def vary(self, interaction: discord.Interaction, job_id: str, index: int) -> None:
        ack = await interaction.response.defer(thinking=True)
        await self._guarded(interaction, self._remix(  # type: ignore[attr-defined]
            interaction, job_id, None, None, getattr(ack, "message_id", None), index=index))

    async def _job_image(self, interaction: discord.Interaction, job_id: str,
                         index: int | None) -> tuple[dict[str, Any], bytes]:
        outline, data = await self.service.job_outline(job_id)
        message = interaction.message
        if data is None and index is not None and message is not None and index < len(message.attachments):
            data = await message.attachments[index].read()  # pruned by the core, still on the message
        if not data or outline.get("job_censored"):
            raise UserFacingError("That image is no longer available to vary.")
        return outline, data

    async def _remix(self, interaction: discord.Interaction, job_id: str, prompt: str | None,
                     strength: float | None, reply: int | None, *, index: int | None = None) -> None:
        outline, data = await self._job_image(interaction, job_id, index)
        settings = await self.bot.guild_settings(interaction.guild_id)
        if prompt is not None:
            _, negative = requests.split_prompt(outline["prompt"])
            prompt = requests.with_negative(prompt, negative)
        request = requests.again(outline, nsfw=self._nsfw(settings, interaction),  # type: ignore[attr-defined]
                                 proxied_account=self._proxied(interaction), keep_seed=False, n=1, prompt=prompt,
                                 source_b64=base64.b64encode(data).decode(),
                                 strength=strength if strength is not None else requests.DEFAULT_STRENGTH)
        await self._submit(interaction, request, settings, reply)  # type: ignore[attr-defined]

    async def remix_job(self, interaction: discord.Interaction, job_id: str) -> None:
        """The Remix button: a modal first (nothing is charged until it is sent)."""
        try:
            outline, _ = await self.service.job_outline(job_id)
        except RequestNotFound:
            await reply_private(interaction, tr(interaction, "That image is no longer available to vary."))
            return
        positive, _ = requests.split_prompt(outline["prompt"])
        await interaction.response.send_modal(RemixModal(interaction, job_id, positive))

    async def remix_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """ "Remix image" on any message: a result's own image (with its settings), or any image attached."""
        jobs = result_jobs(message)
        if jobs:
            await self.remix_job(interaction, jobs[0])
            return
        try:
            image = pick_image(message.attachments)
        except UserFacingError as exc:
            await reply_private(interaction, explain(exc, interaction))
            return
        await interaction.response.send_modal(RemixModal(interaction, image, ""))

    async def remix(self, interaction: discord.Interaction, source: Any, prompt: str, strength_text: str) -> None:
        """The modal was sent: refuse privately what cannot work, else queue like /generate."""
        try:
            strength = float(strength_text.replace(",", "."))
        except ValueError:
            strength = -1.0
        if not 0.01 <= strength <= 1.0:
            await reply_private(interaction, tr(interaction, "The strength is a number from 0.01 (close to the image) "
                                                             "to 1 (far from it), such as 0.6."))
            return
        if not prompt.strip():
            await reply_private(interaction, tr(interaction, "Write a prompt for the remix."))
            return
        ack = await interaction.response.defer(thinking=True)
        reply = getattr(ack, "message_id", None)
        if isinstance(source, str):
            work = self._remix(interaction, source, prompt, strength, reply)
        else:
            work = self._remix_attachment(interaction, source, prompt, strength, reply)
        await self._guarded(interaction, work)  # type: ignore[attr-defined]

    async def _remix_attachment(self, interaction: discord.Interaction, image: discord.Attachment, prompt: str,
                                strength: float, reply: int | None) -> None:
        """Any image, drawn again with the guild's default settings at the image's shape."""
        if image.size > MAX_IMAGE_BYTES:
            raise UserFacingError("That image is larger than 8 MB. Try a smaller copy of it.")
        data = await image.read()
        try:
            width, height = await asyncio.to_thread(_image_size, data)  # decoding stays off the event loop
        except Exception:
            raise UserFacingError("That file is not an image I can read.") from None
        settings = await self.bot.guild_settings(interaction.guild_id)
        opts = GenerateOptions(prompt=prompt, strength=strength)
        request = build_request(opts, settings, nsfw_allowed=self._nsfw(settings, interaction),  # type: ignore
                                source_b64=base64.b64encode(data).decode(),
                                proxied_account=self._proxied(interaction))
        w, h = requests.fit_size(width, height, settings["default_size"])
        request["params"].update(width=w, height=h)
        await self._submit(interaction, request, settings, reply)  # type: ignore[attr-defined]

    async def star(self, interaction: discord.Interaction, job_id: str) -> None:
        user = await self.bot.member_user(interaction.user)
        try:
            starred = await self.service.toggle_favourite(user.id, job_id)
        except HordeError:
            await reply_private(interaction, tr(interaction, "Only the member who asked for this image can star it; "
                                                             "your own are in `/gallery`."))
            return
        await reply_private(interaction, tr(interaction, "⭐ Starred: it stays in your `/gallery` favourites, past the "
                                                         "horde's retention.") if starred else
                            tr(interaction, "Unstarred: it is no longer among your favourites."))

    async def info(self, interaction: discord.Interaction, rid: str) -> None:
        try:
            outline = await self.service.request_outline(rid)
        except RequestNotFound:
            await reply_private(interaction, tr(interaction, "This request is no longer kept."))
            return
        try:
            status = await self.service.status(rid)
        except RequestNotFound:
            status = None
        await interaction.response.send_message(embed=info_embed(interaction, outline, status), ephemeral=True)
