"""How /generate's results look: the progress while a request waits, the images with their buttons once done.

The courier (bot/deliveries.py) decides when and where: the command's reply, a reply in the channel, a DM, or a
private answer to a member fetching it later. Everything shown here is rebuilt from the core and the delivery's
own record, so a result renders the same in a process that never saw the command. Texts are in the language of
the member who asked (their locale is part of the delivery's record).
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.i18n import tr_for
from bot.targets import Attachment, Target
from horde_core.service import Delivery, Progress, RequestNotFound, RequestStatus

from ._views import Say, progress_view, result_view, retry_view

log = logging.getLogger(__name__)


def progress_embed(progress: Progress, cost: int, workers: int, say: Say) -> discord.Embed:
    embed = discord.Embed(title=say("Generating…"), colour=discord.Colour.orange())
    if progress.waiting and not progress.processing:
        embed.description = say("In the queue at position **{position}**.").format(
            position=progress.queue_position + 1)
    else:
        embed.description = say("**{drawing}** being drawn, **{done}** done.").format(
            drawing=progress.processing, done=progress.finished)
    embed.add_field(name=say("ETA"), value=f"~{progress.wait_time} s")
    embed.add_field(name=say("Workers available"), value=str(workers) if progress.is_possible else say(
        "none right now"))
    embed.add_field(name=say("Cost"), value=say("{kudos} kudos").format(kudos=cost))
    return embed


def result_embed(prompt: str, status: RequestStatus, outline: dict[str, Any], requester: str,
                 say: Say) -> discord.Embed:
    gens = status.generations
    embed = discord.Embed(title=say("Done"), description=prompt[:4000], colour=discord.Colour.green())
    embed.add_field(name=say("Model"), value=", ".join(sorted({g.model for g in gens})) or say("any"))
    embed.add_field(name=say("Seed"), value=", ".join(g.seed for g in gens))
    embed.add_field(name=say("Worker"), value=", ".join(sorted({g.worker_name for g in gens})))
    embed.add_field(name=say("Kudos"), value=str(status.progress.kudos))
    censored = sum(g.censored for g in gens)
    if censored:
        why = (say("this channel is not age-restricted, so NSFW results are blocked") if outline["censor_nsfw"]
               else say("the worker's safety check flagged them"))
        embed.add_field(name=say("Censored"), inline=False, value=say(
            "{censored} of {total} images were censored: {why}.").format(censored=censored, total=len(gens), why=why))
    embed.set_footer(text=say("Requested by {requester}").format(requester=requester))
    return embed


class GenerateResults:
    """The renderer the courier calls for "generate" deliveries."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service

    def say(self, d: Delivery) -> Say:
        locale = d.context.get("locale")
        return lambda english: tr_for(self.bot, locale, english)

    async def finished(self, d: Delivery) -> bool:
        return (await self.service.check(d.request_id)).done

    async def progress(self, d: Delivery) -> tuple[discord.Embed, discord.ui.View | None]:
        progress = await self.service.check(d.request_id)
        workers = sum(m.count for m in await self.service.models_status("image"))
        cost = (await self.service.request_outline(d.request_id))["cost"]
        say = self.say(d)
        return progress_embed(progress, cost, workers, say), progress_view(d.request_id, int(d.recipient), say)

    async def cancel(self, d: Delivery) -> None:
        await self.service.cancel(d.request_id)

    async def deliver(self, d: Delivery, target: Target, *, timed_out: bool = False) -> None:
        rid, say = d.request_id, self.say(d)
        try:
            status = await self.service.status(rid)
        except RequestNotFound:  # expired unserved (refunded), or kept past its retention
            await target.first(content=say("Nobody served this request in time; your kudos were refunded. Retry?"),
                               view=retry_view(rid, say))
            return
        gens = status.generations
        if timed_out and not gens:
            await target.first(content=say("No worker finished this in time; unused kudos were refunded. Retry?"),
                               view=retry_view(rid, say))
            return
        if not gens:
            reason = say("This request was cancelled; unused kudos were refunded.") if not status.progress.faulted \
                else say("This request failed on every worker that tried; unused kudos were refunded.")
            await target.first(content=reason, view=retry_view(rid, say))
            return
        outline = await self.service.request_outline(rid)
        files = [Attachment(f"hordebot-{index + 1}.webp", await self.service.image_bytes(g.id) or b"", g.censored)
                 for index, g in enumerate(gens)]
        embed = result_embed(outline["prompt"], status, outline, str(d.context.get("requester", "a member")), say)
        message = await target.first(content=None, embed=embed, files=files,
                                     view=result_view(rid, int(d.recipient), [g.id for g in gens], say))
        await self._enter_party(d, [g.id for g in gens], target, message, embed, say)

    async def _enter_party(self, d: Delivery, job_ids: list[str], target: Target, message: discord.Message | None,
                           embed: discord.Embed, say: Say) -> None:
        """Each image delivered to a channel enters the party running there (the core checks the theme and pays
        the award once per image); the result then says what it earned."""
        if not d.channel or d.private:
            return
        paid = 0
        for job_id in job_ids:
            award = await self.service.party_entry(job_id, d.channel)
            paid += award.award if award is not None else 0
        if paid:
            embed.add_field(name=say("🎉 Party"), inline=False,
                            value=say("+{kudos} kudos for entering the party").format(kudos=paid))
            try:
                await target.edit(message, embed=embed)
            except discord.HTTPException as exc:  # the award stands; only the note is missing
                log.info("could not show the party award on request %s: %s", d.request_id, exc)
