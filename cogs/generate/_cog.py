"""/generate: defer at once, queue in the core, show progress, post the result with its buttons."""

from __future__ import annotations

import base64
import io
import logging
import time
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError, reply_private
from bot.guards import blocked_word, channel_allows_nsfw, refusal, refuse_after_defer
from bot.members import CLIENT_AGENT, proxied_account
from bot.waiting import INTERACTION_DEADLINE, FinishedJobs
from horde_core.service import HordeError, Progress, RequestStatus
from horde_core.service.schemas import ImageRequestSpec

from ._options import SAMPLERS, SIZES, GenerateOptions, build_request
from ._views import progress_view, result_view, retry_view

log = logging.getLogger(__name__)
MAX_SOURCE_BYTES = 8 * 1024 * 1024


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


class GenerateCog(commands.Cog, name="Generate"):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service
        self.edit_interval = 5.0  # Discord-friendly: progress is edited at most this often
        self.poll_interval = 5.0
        self.timeout = float(bot.config.core.request_expiry)
        self.edits: dict[str, int] = {}  # progress edits per request (measured by the benchmark)
        self.finished = FinishedJobs(self.service)

    async def cog_unload(self) -> None:
        self.finished.close()

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
        await interaction.response.defer(thinking=True)
        opts = GenerateOptions(prompt=prompt, negative=negative or "", model=model or "", size=size or "square",
                               steps=steps, images=images, seed=(seed or "")[:32], guidance=guidance,
                               sampler=sampler, strength=strength, share=share)
        await self._guarded(interaction, self._start(interaction, opts, source))

    async def _guarded(self, interaction: discord.Interaction, work: Any) -> None:
        """Refusals after the deferral replace the public "thinking…" with a private answer."""
        try:
            await work
        except (UserFacingError, HordeError) as exc:
            await refuse_after_defer(interaction, exc)

    async def _start(self, interaction: discord.Interaction, opts: GenerateOptions,
                     source: discord.Attachment | None) -> None:
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
        await self._submit(interaction, request, settings)

    async def _submit(self, interaction: discord.Interaction, request: dict[str, Any], settings: Any) -> None:
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
        accepted = await self.service.request_images(user, spec, client_agent=CLIENT_AGENT)
        assert accepted.id is not None
        await self._follow(interaction, accepted.id, accepted.kudos, interaction.user.id)

    async def _follow(self, interaction: discord.Interaction, rid: str, cost: int, user_id: int) -> None:
        """Show progress (edited at most every `edit_interval` s) until the core says the request is done."""
        self.finished.poll_interval = self.poll_interval
        shown: dict[str, Any] = {"embed": None, "at": float("-inf")}

        async def done() -> bool:
            progress = await self.service.check(rid)
            if progress.done:
                return True
            workers = sum(m.count for m in await self.service.models_status("image"))
            embed = progress_embed(progress, cost, workers)
            if embed.to_dict() != shown["embed"] and time.monotonic() - shown["at"] >= self.edit_interval:
                await interaction.edit_original_response(embed=embed, view=progress_view(rid, user_id))
                self.edits[rid] = self.edits.get(rid, 0) + 1
                shown.update(embed=embed.to_dict(), at=time.monotonic())
            return False

        if not await self.finished.until(rid, done, min(self.timeout, INTERACTION_DEADLINE)):
            await self.service.cancel(rid)
            await interaction.edit_original_response(
                content="No worker finished this in time; unused kudos were refunded. Retry?",
                embed=None, view=retry_view(rid))
            return
        await self._post_result(interaction, rid, user_id, await self.service.status(rid))

    async def _post_result(self, interaction: discord.Interaction, rid: str, user_id: int,
                           status: RequestStatus) -> None:
        gens = status.generations
        if not gens:
            reason = "was cancelled" if not status.progress.faulted else "failed on every worker that tried"
            await interaction.edit_original_response(content=f"This request {reason}; unused kudos were refunded.",
                                                     embed=None, view=retry_view(rid))
            return
        outline = await self.service.request_outline(rid)
        files = []
        for index, g in enumerate(gens):
            data = await self.service.image_bytes(g.id) or b""
            files.append(discord.File(io.BytesIO(data), filename=f"hordebot-{index + 1}.webp", spoiler=g.censored))
        prompt = outline["prompt"]
        embed = discord.Embed(title="Done", description=prompt[:4000], colour=discord.Colour.green())
        embed.add_field(name="Model", value=", ".join(sorted({g.model for g in gens})) or "any")
        embed.add_field(name="Seed", value=", ".join(g.seed for g in gens))
        embed.add_field(name="Worker", value=", ".join(sorted({g.worker_name for g in gens})))
        embed.add_field(name="Kudos", value=str(status.progress.kudos))
        censored = sum(g.censored for g in gens)
        if censored:
            why = ("this channel is not age-restricted, so NSFW results are blocked" if outline["censor_nsfw"]
                   else "the worker's safety check flagged them")
            embed.add_field(name="Censored", value=f"{censored} of {len(gens)} images were censored: {why}.",
                            inline=False)
        embed.set_footer(text=f"Requested by {interaction.user.display_name}")
        await interaction.edit_original_response(content=None, embed=embed, attachments=files,
                                                 view=result_view(rid, user_id, [g.id for g in gens]))

    # --- button actions (called by the DynamicItems in _views.py) -------------------------

    async def cancel(self, interaction: discord.Interaction, rid: str) -> None:
        await self.service.cancel(rid)
        self.finished.wake(rid)
        await reply_private(interaction, "Cancelled. Kudos for images not yet started were refunded.")

    async def reroll(self, interaction: discord.Interaction, rid: str, *, keep_seed: bool) -> None:
        await interaction.response.defer(thinking=True)
        await self._guarded(interaction, self._again(interaction, rid, keep_seed=keep_seed))

    async def _again(self, interaction: discord.Interaction, rid: str, *, keep_seed: bool) -> None:
        outline = await self.service.request_outline(rid)
        settings = await self.bot.guild_settings(interaction.guild_id)
        params = {k: v for k, v in outline["params"].items() if keep_seed or k != "seed"}
        params["n"] = outline["n"]
        nsfw = settings["nsfw"] == "age_restricted" and channel_allows_nsfw(interaction.channel)
        request = {"prompt": outline["prompt"], "params": params, "models": outline["models"], "nsfw": nsfw,
                   "censor_nsfw": not nsfw, "shared": outline["shared"], "replacement_filter": False,
                   "proxied_account": proxied_account(interaction.guild_id, interaction.user.id)}
        await self._submit(interaction, request, settings)

    async def vary(self, interaction: discord.Interaction, job_id: str, index: int) -> None:
        await interaction.response.defer(thinking=True)
        await self._guarded(interaction, self._vary(interaction, job_id, index))

    async def _vary(self, interaction: discord.Interaction, job_id: str, index: int) -> None:
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
        await self._submit(interaction, request, settings)
