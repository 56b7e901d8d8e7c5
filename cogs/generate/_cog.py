"""/generate: defer at once, queue in the core with a note of where the result goes, let the courier deliver it.

The command only validates, prices and queues; `_delivery.GenerateResults` renders progress and results, and
the courier (bot/deliveries.py) shows them wherever they can still reach the member, across restarts. What the
result buttons and the context menus do lives in `_again.py` (run again, vary, remix, star, info) and
`_enhance.py` (upscale, fix faces, remove background); every path queues through `_submit` (or, for alchemy,
`EnhanceMixin._enhance`), so each is checked the same way and delivered by the courier.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError, reply_private
from bot.guards import BLANK_PROMPT, blank, blocked_word_refusal, channel_allows_nsfw, refusal, refuse_after_defer
from bot.i18n import tr
from bot.members import CLIENT_AGENT, proxied_account
from bot.settings import scope
from horde_core.service.schemas import ImageRequestSpec

from . import _catalogue as catalogue
from . import _styles as styles
from ._again import AgainMixin
from ._delivery import GenerateResults
from ._enhance import ENHANCE, Enhancements, EnhanceMixin
from ._options import SAMPLERS, SIZES, GenerateOptions, build_request

log = logging.getLogger(__name__)
MAX_SOURCE_BYTES = 8 * 1024 * 1024
FEATURE = "generate"


def _reply_id(ack: Any) -> int | None:
    """The deferred reply's message id, as the interaction callback reported it."""
    return getattr(ack, "message_id", None)


class GenerateCog(AgainMixin, EnhanceMixin, commands.Cog, name="Generate"):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service
        self.deliveries = bot.deliveries
        # Context menus cannot be declared inside a cog class; these are added and removed with the cog.
        self.menus = [app_commands.ContextMenu(name="Remix image", callback=self.remix_message),
                      app_commands.ContextMenu(name="Upscale image", callback=self.upscale_message)]

    async def cog_load(self) -> None:
        for menu in self.menus:
            self.bot.tree.add_command(menu)
        self.deliveries.register(FEATURE, GenerateResults(self.bot))
        self.deliveries.register(ENHANCE, Enhancements(self.bot))

    async def cog_unload(self) -> None:
        for menu in self.menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)
        self.deliveries.unregister(FEATURE)
        self.deliveries.unregister(ENHANCE)

    async def _models(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        models = await self.service.models_status("image")
        matches = [m for m in models if current.lower() in m.name.lower()]
        matches.sort(key=lambda m: (-m.count, m.name))
        return [app_commands.Choice(name=tr(interaction, "{model} — {workers} workers, {queued} queued", model=m.name,
                                            workers=m.count, queued=m.jobs)[:100], value=m.name)
                for m in matches[:25]]

    async def _loras(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await catalogue.choices(self.service, interaction, "lora", current)

    async def _tis(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await catalogue.choices(self.service, interaction, "ti", current)

    async def _styles(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        settings = await self.bot.guild_settings(interaction.guild_id)
        return await styles.choices(self.service, settings, current, nsfw_allowed=self._nsfw(settings, interaction))

    @app_commands.command(name="generate", description="Draw images from a prompt")
    @app_commands.describe(prompt="What to draw", negative="What to avoid", model="Which model",
                           size="Image shape", steps="Sampling steps", images="How many images (1-4)",
                           seed="Seed, for repeatable results", guidance="How closely to follow the prompt",
                           sampler="Sampler", source="An image to start from (img2img)",
                           strength="How far to move from the source image (0-1)",
                           share="Share the results in the open dataset (cheaper)",
                           lora="A LoRA from the catalogue (type to search names and trigger words)",
                           ti="A textual inversion from the catalogue",
                           style="A horde style: a prompt template with its own settings and models")
    @app_commands.choices(size=[app_commands.Choice(name=n, value=n) for n in SIZES],
                          sampler=[app_commands.Choice(name=s, value=s) for s in SAMPLERS])
    @app_commands.autocomplete(model=_models, lora=_loras, ti=_tis, style=_styles)
    async def generate(self, interaction: discord.Interaction, prompt: app_commands.Range[str, 1, 1000],
                       negative: app_commands.Range[str, 0, 1000] | None = None, model: str | None = None,
                       size: str | None = None, steps: app_commands.Range[int, 1, 500] | None = None,
                       images: app_commands.Range[int, 1, 4] = 1, seed: str | None = None,
                       guidance: app_commands.Range[float, 0.0, 30.0] | None = None, sampler: str | None = None,
                       source: discord.Attachment | None = None,
                       strength: app_commands.Range[float, 0.01, 1.0] | None = None, share: bool = False,
                       lora: str | None = None, ti: str | None = None,
                       style: app_commands.Range[str, 1, 300] | None = None) -> None:
        if blank(prompt):
            await reply_private(interaction, tr(interaction, BLANK_PROMPT))  # before anything public or paid
            return
        opts = GenerateOptions(prompt=prompt, negative=negative or "", model=model or "", size=size or "square",
                               steps=steps, images=images, seed=(seed or "")[:32], guidance=guidance,
                               sampler=sampler, strength=strength, share=share, lora=lora or "", ti=ti or "",
                               style=style or "")
        try:  # a pick that does not fit is refused before anything is public or paid
            picked = await catalogue.resolve(self.service, interaction.guild_id or 0, opts.model, opts.lora, opts.ti)
            settings = await self.bot.guild_settings(interaction.guild_id)
            party = await self.service.party_in(scope(interaction.guild_id or 0), str(interaction.channel_id))
            styled = await styles.check(self.service, settings, opts, nsfw_allowed=self._nsfw(settings, interaction),
                                        party_style=party.style if party else "")
        except UserFacingError as exc:
            await reply_private(interaction, tr(interaction, exc.template, **exc.params))
            return
        ack = await interaction.response.defer(thinking=True)
        await self._guarded(interaction, self._start(interaction, opts, source, picked, _reply_id(ack), styled))

    async def _guarded(self, interaction: discord.Interaction, work: Any) -> None:
        """Whatever goes wrong after the public deferral ends privately: the "thinking…" goes, the member reads
        why (unexpected errors are logged). Once the request is queued, the courier owns the reply."""
        try:
            await work
        except Exception as exc:
            await refuse_after_defer(interaction, exc)

    def _nsfw(self, settings: Any, interaction: discord.Interaction) -> bool:
        return settings["nsfw"] == "age_restricted" and channel_allows_nsfw(interaction.channel)

    @staticmethod
    def _check_here(settings: Any, interaction: discord.Interaction) -> None:
        why = refusal(settings, "generate", interaction.channel, interaction.channel_id)
        if why:
            raise why

    async def _start(self, interaction: discord.Interaction, opts: GenerateOptions,
                     source: discord.Attachment | None, picked: list[Any], reply: int | None,
                     styled: styles.StyleLimits | None = None) -> None:
        settings = await self.bot.guild_settings(interaction.guild_id)
        self._check_here(settings, interaction)  # before reading the source
        source_b64 = None
        if source is not None:
            if source.size > MAX_SOURCE_BYTES or not (source.content_type or "").startswith("image/"):
                raise UserFacingError("The source must be an image of at most 8 MB.")
            source_b64 = base64.b64encode(await source.read()).decode()
        request = build_request(opts, settings, nsfw_allowed=self._nsfw(settings, interaction), source_b64=source_b64,
                                proxied_account=proxied_account(interaction.guild_id, interaction.user.id))
        catalogue.apply(request, picked, settings["default_model"], self.service.model_family,
                        self.service.models_of_family)
        styles.apply(request, styled)
        await self._submit(interaction, request, settings, reply)

    async def _submit(self, interaction: discord.Interaction, request: dict[str, Any], settings: Any,
                      reply: int | None) -> None:
        """Check the guild's rules, then queue the request and the note of where its result goes, and follow it.
        The core enforces the member's fairness limits (in flight, daily images) where it accepts the request."""
        self._check_here(settings, interaction)
        blocked = blocked_word_refusal(settings, request["prompt"])
        if blocked:
            raise blocked
        user = await self.bot.member_user(interaction.user)
        models = request.get("models") or []
        served = {m.name: m.count for m in await self.service.models_status("image")}
        if models and not any(served.get(m) or self.service.upstream_serves_model("image", m) for m in models):
            offer = ", ".join(sorted(m for m, c in served.items() if c)) or tr(interaction, "none at the moment")
            wanted = models[0] if len(models) == 1 else ", ".join(models[:5]) + ("…" if len(models) > 5 else "")
            raise UserFacingError("No worker serves `{model}` right now. Models being served: {offer}.",
                                  model=wanted, offer=offer)
        spec = ImageRequestSpec.model_validate(request)
        deliver = await self.deliveries.spec(interaction, FEATURE, reply=reply, long_queues=settings["long_queues"],
                                             context={"requester": interaction.user.display_name,
                                                      "summary": request["prompt"].split(" ### ")[0][:80]})
        accepted = await self.service.request_images(user, spec, client_agent=CLIENT_AGENT, deliver=deliver)
        assert accepted.id is not None
        await self.deliveries.deliver(accepted.id)

    async def cancel(self, interaction: discord.Interaction, rid: str) -> None:
        await self.service.cancel(rid)
        self.deliveries.wake(rid)
        await reply_private(interaction, tr(interaction, "Cancelled. Kudos for images not yet started were refunded."))
