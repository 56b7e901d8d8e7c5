"""How /generate's results look: the progress while a request waits, the images with their buttons once done.

The courier (bot/deliveries.py) decides when and where: the command's reply, a reply in the channel, a DM, or a
private answer to a member fetching it later. Everything shown here is rebuilt from the core and the delivery's
own record, so a result renders the same in a process that never saw the command.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.targets import Attachment, Target
from horde_core.service import Delivery, Progress, RequestNotFound, RequestStatus

from ._views import progress_view, result_view, retry_view


def progress_embed(progress: Progress, cost: int, workers: int) -> discord.Embed:
    embed = discord.Embed(title="Generating…", colour=discord.Colour.orange())
    if progress.waiting and not progress.processing:
        embed.description = f"In the queue at position **{progress.queue_position + 1}**."
    else:
        embed.description = f"**{progress.processing}** being drawn, **{progress.finished}** done."
    embed.add_field(name="ETA", value=f"~{progress.wait_time} s")
    embed.add_field(name="Workers available", value=str(workers) if progress.is_possible else "none right now")
    embed.add_field(name="Cost", value=f"{cost} kudos")
    return embed


def result_embed(prompt: str, status: RequestStatus, outline: dict[str, Any], requester: str) -> discord.Embed:
    gens = status.generations
    embed = discord.Embed(title="Done", description=prompt[:4000], colour=discord.Colour.green())
    embed.add_field(name="Model", value=", ".join(sorted({g.model for g in gens})) or "any")
    embed.add_field(name="Seed", value=", ".join(g.seed for g in gens))
    embed.add_field(name="Worker", value=", ".join(sorted({g.worker_name for g in gens})))
    embed.add_field(name="Kudos", value=str(status.progress.kudos))
    censored = sum(g.censored for g in gens)
    if censored:
        why = ("this channel is not age-restricted, so NSFW results are blocked" if outline["censor_nsfw"]
               else "the worker's safety check flagged them")
        embed.add_field(name="Censored", value=f"{censored} of {len(gens)} images were censored: {why}.", inline=False)
    embed.set_footer(text=f"Requested by {requester}")
    return embed


class GenerateResults:
    """The renderer the courier calls for "generate" deliveries."""

    def __init__(self, service: Any) -> None:
        self.service = service

    async def finished(self, d: Delivery) -> bool:
        return (await self.service.check(d.request_id)).done

    async def progress(self, d: Delivery) -> tuple[discord.Embed, discord.ui.View | None]:
        progress = await self.service.check(d.request_id)
        workers = sum(m.count for m in await self.service.models_status("image"))
        cost = (await self.service.request_outline(d.request_id))["cost"]
        return progress_embed(progress, cost, workers), progress_view(d.request_id, int(d.recipient))

    async def cancel(self, d: Delivery) -> None:
        await self.service.cancel(d.request_id)

    async def deliver(self, d: Delivery, target: Target, *, timed_out: bool = False) -> None:
        rid = d.request_id
        try:
            status = await self.service.status(rid)
        except RequestNotFound:  # expired unserved (refunded), or kept past its retention
            await target.first(content="Nobody served this request in time; your kudos were refunded. Retry?",
                               view=retry_view(rid))
            return
        gens = status.generations
        if timed_out and not gens:
            await target.first(content="No worker finished this in time; unused kudos were refunded. Retry?",
                               view=retry_view(rid))
            return
        if not gens:
            reason = "was cancelled" if not status.progress.faulted else "failed on every worker that tried"
            await target.first(content=f"This request {reason}; unused kudos were refunded.", view=retry_view(rid))
            return
        outline = await self.service.request_outline(rid)
        files = [Attachment(f"hordebot-{index + 1}.webp", await self.service.image_bytes(g.id) or b"", g.censored)
                 for index, g in enumerate(gens)]
        embed = result_embed(outline["prompt"], status, outline, str(d.context.get("requester", "a member")))
        await target.first(content=None, embed=embed, files=files,
                           view=result_view(rid, int(d.recipient), [g.id for g in gens]))
