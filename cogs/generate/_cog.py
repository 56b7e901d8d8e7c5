"""/generate: defer at once, queue in the core with a note of where the result goes, let the courier deliver it.

The command only validates, prices and queues; `_delivery.GenerateResults` renders progress and results, and
the courier (bot/deliveries.py) shows them wherever they can still reach the member, across restarts.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError, reply_private
from bot.guards import BLANK_PROMPT, blank, blocked_word, channel_allows_nsfw, refusal, refuse_after_defer
from bot.members import CLIENT_AGENT, proxied_account
from horde_core.service.schemas import ImageRequestSpec

from ._delivery import GenerateResults
from ._options import SAMPLERS, SIZES, GenerateOptions, build_request

log = logging.getLogger(__name__)
MAX_SOURCE_BYTES = 8 * 1024 * 1024
FEATURE = "generate"


def _reply_id(ack: Any) -> int | None:
    """The deferred reply's message id, as the interaction callback reported it."""
    return getattr(ack, "message_id", None)


class GenerateCog(commands.Cog, name="Generate"):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service
        self.deliveries = bot.deliveries

    async def cog_load(self) -> None:
        self.deliveries.register(FEATURE, GenerateResults(self.service))

    async def cog_unload(self) -> None:
        self.deliveries.unregister(FEATURE)

    async def _models(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        models = await self.service.models_status("image")
        matches = [m for m in models if current.lower() in m.name.lower()]
        matches.sort(key=lambda m: (-m.count, m.name))
        return [app_commands.Choice(name=f"{m.name} — {m.count} workers, {m.jobs} queued"[:100], value=m.name)
                for m in matches[:25]]

    @app_commands.command(name="generate", description="Draw images from a prompt")
    @app_commands.describe(prompt="What to draw", negative="What to avoid", model="Which model",
                           size="Image shape", steps="Sampling steps", images="How many images (1-4)",
                           seed="Seed, for repeatable results", guidance="How closely to follow the prompt",
                           sampler="Sampler", source="An image to start from (img2img)",
                           strength="How far to move from the source image (0-1)",
                           share="Share the results in the open dataset (cheaper)")
    @app_commands.choices(size=[app_commands.Choice(name=n, value=n) for n in SIZES],
                          sampler=[app_commands.Choice(name=s, value=s) for s in SAMPLERS])
    @app_commands.autocomplete(model=_models)
    async def generate(self, interaction: discord.Interaction, prompt: app_commands.Range[str, 1, 1000],
                       negative: app_commands.Range[str, 0, 1000] | None = None, model: str | None = None,
                       size: str | None = None, steps: app_commands.Range[int, 1, 500] | None = None,
                       images: app_commands.Range[int, 1, 4] = 1, seed: str | None = None,
                       guidance: app_commands.Range[float, 0.0, 30.0] | None = None, sampler: str | None = None,
                       source: discord.Attachment | None = None,
                       strength: app_commands.Range[float, 0.01, 1.0] | None = None, share: bool = False) -> None:
        if blank(prompt):
            await reply_private(interaction, BLANK_PROMPT)  # before anything public or paid
            return
        ack = await interaction.response.defer(thinking=True)
        opts = GenerateOptions(prompt=prompt, negative=negative or "", model=model or "", size=size or "square",
                               steps=steps, images=images, seed=(seed or "")[:32], guidance=guidance,
                               sampler=sampler, strength=strength, share=share)
        await self._guarded(interaction, self._start(interaction, opts, source, _reply_id(ack)))

    async def _guarded(self, interaction: discord.Interaction, work: Any) -> None:
        """Whatever goes wrong after the public deferral ends privately: the "thinking…" goes, the member reads
        why (unexpected errors are logged). Once the request is queued, the courier owns the reply."""
        try:
            await work
        except Exception as exc:
            await refuse_after_defer(interaction, exc)

    async def _start(self, interaction: discord.Interaction, opts: GenerateOptions,
                     source: discord.Attachment | None, reply: int | None) -> None:
        settings = await self.bot.guild_settings(interaction.guild_id)
        refused = refusal(settings, "generate", "Image generation", interaction.channel, interaction.channel_id)
        if refused:
            raise UserFacingError(refused)
        word = blocked_word(settings, opts.prompt, opts.negative)
        if word:
            raise UserFacingError(f"This server does not allow `{word}` in prompts. Rephrase and try again.")
        source_b64 = None
        if source is not None:
            if source.size > MAX_SOURCE_BYTES or not (source.content_type or "").startswith("image/"):
                raise UserFacingError("The source must be an image of at most 8 MB.")
            source_b64 = base64.b64encode(await source.read()).decode()
        nsfw = settings["nsfw"] == "age_restricted" and channel_allows_nsfw(interaction.channel)
        request = build_request(opts, settings, nsfw_allowed=nsfw, source_b64=source_b64,
                                proxied_account=proxied_account(interaction.guild_id, interaction.user.id))
        await self._submit(interaction, request, settings, reply)

    async def _submit(self, interaction: discord.Interaction, request: dict[str, Any], settings: Any,
                      reply: int | None) -> None:
        """Check the guild's limits, then queue the request and the note of where its result goes, and follow it."""
        user = await self.bot.member_user(interaction.user)
        n = request["params"].get("n", 1)
        if settings["daily_images"]:
            used = await self.service.jobs_since(user.id, "image", time.time() - 86400)
            if used + n > settings["daily_images"]:
                raise UserFacingError(f"This server allows {settings['daily_images']} images per member per day; "
                                      f"you have used {used}. Try again tomorrow.")
        models = request.get("models") or []
        served = {m.name: m.count for m in await self.service.models_status("image")}
        if models and not served.get(models[0]) and not self.service.upstream_serves_model("image", models[0]):
            offer = ", ".join(sorted(m for m, c in served.items() if c)) or "none at the moment"
            raise UserFacingError(f"No worker serves `{models[0]}` right now. Models being served: {offer}.")
        spec = ImageRequestSpec.model_validate(request)
        deliver = await self.deliveries.spec(interaction, FEATURE, reply=reply, long_queues=settings["long_queues"],
                                             context={"requester": interaction.user.display_name,
                                                      "summary": request["prompt"].split(" ### ")[0][:80]})
        accepted = await self.service.request_images(user, spec, client_agent=CLIENT_AGENT, deliver=deliver)
        assert accepted.id is not None
        await self.deliveries.deliver(accepted.id)

    # --- button actions (called by the DynamicItems in _views.py) -------------------------

    async def cancel(self, interaction: discord.Interaction, rid: str) -> None:
        await self.service.cancel(rid)
        self.deliveries.wake(rid)
        await reply_private(interaction, "Cancelled. Kudos for images not yet started were refunded.")

    async def reroll(self, interaction: discord.Interaction, rid: str, *, keep_seed: bool) -> None:
        ack = await interaction.response.defer(thinking=True)
        await self._guarded(interaction, self._again(interaction, rid, _reply_id(ack), keep_seed=keep_seed))

    async def _again(self, interaction: discord.Interaction, rid: str, reply: int | None, *, keep_seed: bool) -> None:
        outline = await self.service.request_outline(rid)
        settings = await self.bot.guild_settings(interaction.guild_id)
        params = {k: v for k, v in outline["params"].items() if keep_seed or k != "seed"}
        params["n"] = outline["n"]
        nsfw = settings["nsfw"] == "age_restricted" and channel_allows_nsfw(interaction.channel)
        request = {"prompt": outline["prompt"], "params": params, "models": outline["models"], "nsfw": nsfw,
                   "censor_nsfw": not nsfw, "shared": outline["shared"], "replacement_filter": False,
                   "proxied_account": proxied_account(interaction.guild_id, interaction.user.id)}
        await self._submit(interaction, request, settings, reply)

    async def vary(self, interaction: discord.Interaction, job_id: str, index: int) -> None:
        ack = await interaction.response.defer(thinking=True)
        await self._guarded(interaction, self._vary(interaction, job_id, index, _reply_id(ack)))

    async def _vary(self, interaction: discord.Interaction, job_id: str, index: int, reply: int | None) -> None:
        outline, data = await self.service.job_outline(job_id)
        if data is None and interaction.message is not None and index < len(interaction.message.attachments):
            data = await interaction.message.attachments[index].read()
        if not data:
            raise UserFacingError("That image is no longer available to vary.")
        settings = await self.bot.guild_settings(interaction.guild_id)
        params = {k: v for k, v in outline["params"].items() if k != "seed"}
        params.update(n=1, denoising_strength=0.6)
        nsfw = settings["nsfw"] == "age_restricted" and channel_allows_nsfw(interaction.channel)
        request = {"prompt": outline["prompt"], "params": params, "models": outline["models"], "nsfw": nsfw,
                   "censor_nsfw": not nsfw, "replacement_filter": False,
                   "source_image": base64.b64encode(data).decode(), "source_processing": "img2img",
                   "proxied_account": proxied_account(interaction.guild_id, interaction.user.id)}
        await self._submit(interaction, request, settings, reply)
