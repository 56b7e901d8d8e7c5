"""Upscale (x2, x4), Fix faces and Remove background: image alchemy on a result or on any image in the channel.

The core's interrogation forms do it (horde-alchemist's post-processors: RealESRGAN, GFPGAN/CodeFormers,
strip_background) on the stored image, so nothing is drawn again. The enhanced image is a new message (the
deferred reply of the click), the original stays. Whoever clicks pays; the request and the note of where its
result goes are written together and the courier delivers it, like every result (restarts included).
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import discord

from bot import result_actions as ids
from bot.errors import UserFacingError, reply_private
from bot.i18n import tr, tr_for
from bot.images import MAX_IMAGE_BYTES, images_of
from bot.members import CLIENT_AGENT, proxied_account
from bot.targets import Attachment, Target
from horde_core.service import Delivery, RequestNotFound
from horde_core.service.schemas import AlchemyRequestSpec

from ._actions import result_jobs
from ._views import MessageEnhanceButton, enhance_row, enhanced_view

log = logging.getLogger(__name__)
ENHANCE = "enhance"
FINISHED = frozenset({"done", "faulted", "cancelled"})
MAX_PICKED = 5  # images offered in a picker: one row of buttons each


def _kind(data: bytes) -> str:
    return "png" if data.startswith(b"\x89PNG") else "jpg" if data.startswith(b"\xff\xd8") else "webp"


class Enhancements:
    """The renderer the courier calls for "enhance" deliveries: the enhanced image, or why there is none."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service

    async def finished(self, d: Delivery) -> bool:
        status = await self.service.interrogation_status(d.request_id)
        return all(f.state in FINISHED for f in status.forms)

    async def progress(self, d: Delivery) -> None:
        return None  # "thinking…" says enough: an alchemist takes seconds

    async def cancel(self, d: Delivery) -> None:
        await self.service.cancel_interrogation(d.request_id)

    async def deliver(self, d: Delivery, target: Target, *, timed_out: bool = False) -> None:
        locale = d.context.get("locale")

        def say(english: str, **params: Any) -> str:
            return tr_for(self.bot, locale, english, **params)

        form, op = str(d.context.get("form", "")), str(d.context.get("op", "x2"))
        try:
            data = await self.service.form_image(d.request_id, form)
        except RequestNotFound:
            data = None
        if not data:
            await target.refuse(say("No alchemist finished this in time; unused kudos were refunded. Try again later.")
                                if timed_out else say("The alchemist could not do this; your kudos were refunded. "
                                                      "Try again later."))
            return
        content = say("{action} for {member}", action=say(ids.ENHANCE_LABELS.get(op, op)),
                      member=str(d.context.get("requester", "a member")))
        await target.first(content=content, files=[Attachment(f"hordebot-{op}.{_kind(data)}", data)],
                           view=enhanced_view(int(d.recipient), lambda english: say(english)))


class EnhanceMixin:
    """Methods of GenerateCog (it provides bot, service, deliveries and _guarded)."""

    bot: Any
    service: Any
    deliveries: Any

    async def enhance_job(self, interaction: discord.Interaction, job_id: str, op: str) -> None:
        ack = await interaction.response.defer(thinking=True)
        await self._guarded(interaction, self._enhance_job(  # type: ignore[attr-defined]
            interaction, job_id, op, getattr(ack, "message_id", None)))

    async def _enhance_job(self, interaction: discord.Interaction, job_id: str, op: str, reply: int | None) -> None:
        outline, data = await self.service.job_outline(job_id)
        if not data or outline.get("job_censored"):
            raise UserFacingError("That image is no longer kept (or was censored), so there is nothing to enhance.")
        await self._enhance(interaction, data, op, reply)

    async def enhance_message(self, interaction: discord.Interaction, message_id: int, index: int, op: str) -> None:
        ack = await interaction.response.defer(thinking=True)
        await self._guarded(interaction, self._enhance_message(  # type: ignore[attr-defined]
            interaction, message_id, index, op, getattr(ack, "message_id", None)))

    async def _enhance_message(self, interaction: discord.Interaction, message_id: int, index: int, op: str,
                               reply: int | None) -> None:
        channel = interaction.channel
        try:
            message = await channel.fetch_message(message_id)  # type: ignore[union-attr]
        except (discord.NotFound, discord.Forbidden, AttributeError):
            raise UserFacingError("That message is gone, or I can no longer read it.") from None
        images = images_of(message.attachments)
        if index >= len(images) or images[index].size > MAX_IMAGE_BYTES:
            raise UserFacingError("That image is gone from the message, or larger than 8 MB.")
        await self._enhance(interaction, await images[index].read(), op, reply)

    async def _served_form(self, op: str) -> str | None:
        local = {m.name for m in await self.service.models_status("interrogation") if m.count}
        return next((f for f in ids.ENHANCE_FORMS[op]
                     if f in local or self.service.upstream_serves_model("interrogation", f)), None)

    async def _enhance(self, interaction: discord.Interaction, data: bytes, op: str, reply: int | None) -> None:
        settings = await self.bot.guild_settings(interaction.guild_id)
        self._check_here(settings, interaction)  # type: ignore[attr-defined]
        form = await self._served_form(op)
        if form is None:
            raise UserFacingError("No alchemist offers “{action}” right now. Try again later.",
                                  action=tr(interaction, ids.ENHANCE_LABELS[op]))
        spec = AlchemyRequestSpec.model_validate({
            "forms": [{"name": form}], "source_image": base64.b64encode(data).decode(),
            "proxied_account": proxied_account(interaction.guild_id, interaction.user.id)})
        user = await self.bot.member_user(interaction.user)
        deliver = await self.deliveries.spec(interaction, ENHANCE, reply=reply, long_queues=settings["long_queues"],
                                             context={"op": op, "form": form,
                                                      "requester": interaction.user.display_name,
                                                      "summary": ids.ENHANCE_LABELS[op]})
        rid = await self.service.request_interrogation(user, spec, client_agent=CLIENT_AGENT, deliver=deliver)
        await self.deliveries.deliver(rid)

    async def enhance_picker(self, interaction: discord.Interaction, rid: str) -> None:
        """Enhance on a result of several images: which image, and how (privately; nothing is charged yet)."""
        try:
            gens = [g for g in (await self.service.status(rid)).generations if not g.censored]
        except RequestNotFound:
            gens = []
        if not gens:
            await reply_private(interaction, tr(interaction, "These images are no longer kept, so there is nothing "
                                                             "to enhance."))
            return
        view = discord.ui.View(timeout=None)
        for row, g in enumerate(gens[:MAX_PICKED]):
            enhance_row(view, g.id, row, lambda english: tr(interaction, english), number=row + 1)
        await interaction.response.send_message(tr(interaction, "Which image, and how?"), view=view, ephemeral=True)

    async def upscale_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """ "Upscale image" on any message: a private choice of image and enhancement."""
        jobs = result_jobs(message)
        view = discord.ui.View(timeout=None)
        say = lambda english: tr(interaction, english)  # noqa: E731
        if jobs:
            for row, job_id in enumerate(jobs[:MAX_PICKED]):
                enhance_row(view, job_id, row, say, number=row + 1 if len(jobs) > 1 else None)
        else:
            images = [a for a in images_of(message.attachments)][:MAX_PICKED]
            if not images:
                await reply_private(interaction, tr(interaction, "That message has no attached image."))
                return
            for row in range(len(images)):
                for op, label in ids.ENHANCE_LABELS.items():
                    text = say(label) if len(images) == 1 else f"{say(label)} {row + 1}"
                    view.add_item(MessageEnhanceButton(message.id, row, op, text, row=row))
        await interaction.response.send_message(tr(interaction, "Which image, and how?"), view=view, ephemeral=True)
