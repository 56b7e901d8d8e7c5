"""What members of other image bots expect to look up: which models are served and how busy they are, the
horde's workers, its news and its status. All answers are private: they are for the one who asked."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError, explain, reply_private
from bot.i18n import tr
from bot.settings import scope
from horde_core.service import HordeError, KindStatus, WorkerInfo
from horde_core.service.schemas import WorkerModifySpec

from ._views import switches

SHOWN = 20
CATALOGUE_KINDS = [app_commands.Choice(name="LoRA", value="lora"),
                   app_commands.Choice(name="textual inversion", value="ti")]
KIND_CHOICES = [app_commands.Choice(name="images", value="image"), app_commands.Choice(name="text", value="text")]


def _eta(interaction: discord.Interaction, seconds: int) -> str:
    if seconds < 0:
        return tr(interaction, "unknown")
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


class InfoCog(commands.Cog, name="Info"):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service

    @app_commands.command(name="models", description="Models served right now, their queue and wait")
    @app_commands.describe(kind="Image or text models")
    @app_commands.choices(kind=KIND_CHOICES)
    async def models(self, interaction: discord.Interaction, kind: str = "image") -> None:
        served = await self.service.models_status(kind)
        served.sort(key=lambda m: (-m.count, -m.jobs, m.name))
        embed = discord.Embed(title=tr(interaction, "Models being served"), colour=discord.Colour.blurple())
        if not served:
            embed.description = tr(interaction, "No worker serves any model right now.")
        else:
            lines = [tr(interaction, "**{name}**: {workers} workers, {jobs} queued, ETA {eta}", name=m.name,
                        workers=m.count, jobs=m.jobs, eta=_eta(interaction, m.eta if m.count else -1))
                     for m in served[:SHOWN]]
            if len(served) > SHOWN:
                lines.append(tr(interaction, "…and {count} more.", count=len(served) - SHOWN))
            embed.description = "\n".join(lines)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="workers", description="The horde's workers; switch your own into maintenance")
    @app_commands.describe(kind="Image, text or alchemy workers")
    @app_commands.choices(kind=[*KIND_CHOICES, app_commands.Choice(name="alchemy", value="interrogation")])
    async def workers(self, interaction: discord.Interaction, kind: str | None = None) -> None:
        embed, view = await self._workers(interaction, kind)
        if view is None:
            await interaction.response.send_message(embed=embed, ephemeral=True)
        else:
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    async def _workers(self, interaction: discord.Interaction,
                       kind: str | None) -> tuple[discord.Embed, discord.ui.View | None]:
        everyone = [w for w in await self.service.list_workers(kind) if w.online]
        everyone.sort(key=lambda w: (-w.requests_fulfilled, w.name))
        user = await self.bot.member_user(interaction.user)
        mine = set((await self.service.user_info(user.id)).worker_ids)
        own = [await self.service.get_worker(worker_id) for worker_id in sorted(mine)]
        if self._operator(interaction):  # the horde's operators switch any online worker
            own += [w for w in everyone if w.id not in mine]
        embed = discord.Embed(title=tr(interaction, "Workers online"), colour=discord.Colour.dark_green())
        lines = [self._line(interaction, w, w.id in mine) for w in everyone[:SHOWN]]
        if len(everyone) > SHOWN:
            lines.append(tr(interaction, "…and {count} more.", count=len(everyone) - SHOWN))
        embed.description = "\n".join(lines) or tr(interaction, "No worker is online right now.")
        if mine:
            embed.add_field(name=tr(interaction, "Your workers"), value="\n".join(
                self._line(interaction, w, True) for w in own if w.id in mine)[:1024], inline=False)
        return embed, switches(interaction, own)

    def _operator(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id in self.bot.config.bot.owner_ids

    def _line(self, interaction: discord.Interaction, w: WorkerInfo, mine: bool) -> str:
        state = tr(interaction, "maintenance") if w.maintenance_mode else (
            tr(interaction, "online") if w.online else tr(interaction, "offline"))
        models = ", ".join(w.models[:3]) + ("…" if len(w.models) > 3 else "")
        return tr(interaction, "{star}**{name}** ({kind}, {state}): {models}; {jobs} jobs, {threads} threads",
                  star="⭐ " if mine else "", name=w.name, kind=w.kind, state=state, models=models or "—",
                  jobs=w.requests_fulfilled, threads=w.threads)

    async def switch_maintenance(self, interaction: discord.Interaction, worker_id: str, on: bool) -> None:
        """The owner's switch; the core refuses anyone else (answered privately, nothing changes)."""
        user = await self.bot.member_user(interaction.user)
        try:
            await self.service.modify_worker(user, worker_id, WorkerModifySpec(maintenance=on),
                                             operator=self._operator(interaction))
        except HordeError as exc:
            await reply_private(interaction, explain(exc, interaction))
            return
        embed, view = await self._workers(interaction, None)
        note = (tr(interaction, "Your worker is in maintenance: it takes no new jobs.") if on
                else tr(interaction, "Your worker takes jobs again."))
        await interaction.response.edit_message(content=note, embed=embed, view=view)

    async def _catalogue_names(self, interaction: discord.Interaction,
                               current: str) -> list[app_commands.Choice[str]]:
        kind = getattr(interaction.namespace, "kind", None) or "lora"
        found = await self.service.catalogue_search(scope(interaction.guild_id or 0), kind, current)
        return [app_commands.Choice(name=e.label, value=e.name) for e in found]

    @app_commands.command(name="catalogue", description="LoRAs and textual inversions: triggers, base model, size")
    @app_commands.describe(kind="LoRA or textual inversion", name="Start typing: names, trigger words or CivitAI ids")
    @app_commands.choices(kind=CATALOGUE_KINDS)
    @app_commands.autocomplete(name=_catalogue_names)
    async def catalogue(self, interaction: discord.Interaction, name: str, kind: str = "lora") -> None:
        entry = await self.service.catalogue_entry(scope(interaction.guild_id or 0), kind, name)
        if entry is None:
            raise UserFacingError("`{name}` is not in the catalogue: pick one from the list as you type.", name=name)
        embed = discord.Embed(title=entry.name, colour=discord.Colour.blurple())
        embed.add_field(name=tr(interaction, "Base model"), value=entry.family)
        embed.add_field(name=tr(interaction, "Trigger words"), value=", ".join(entry.triggers) or "—")
        embed.add_field(name=tr(interaction, "Size"), value=f"{entry.size_mb:g} MB" if entry.size_mb else "—")
        embed.add_field(name="CivitAI", value=f"https://civitai.com/models/{entry.horde_name}"
                        if entry.horde_name.isdigit() else entry.horde_name, inline=False)
        models = self.service.models_of_family(entry.family)
        if models:
            embed.add_field(name=tr(interaction, "Works with"), inline=False,
                            value=", ".join(models[:10]) + ("…" if len(models) > 10 else ""))
        if entry.community:
            embed.set_footer(text=tr(interaction, "Added by this server"))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="news", description="The horde's latest news")
    async def news(self, interaction: discord.Interaction) -> None:
        embed = discord.Embed(title=tr(interaction, "News"), colour=discord.Colour.gold())
        for item in self.service.news()[:5]:
            title = f"{item['date_published']} · {item['title'] or item['importance']}"
            text = item["newspiece"] + "".join(f"\n{url}" for url in item["more_info_urls"])
            embed.add_field(name=title[:256], value=text[:1024], inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="status", description="How the horde is doing: workers and queues per kind")
    async def status(self, interaction: discord.Interaction) -> None:
        embed = discord.Embed(title=tr(interaction, "Horde status"), colour=discord.Colour.teal())
        names = {"image": tr(interaction, "Images"), "text": tr(interaction, "Text"),
                 "interrogation": tr(interaction, "Alchemy")}
        for kind in await self.service.kind_status():
            embed.add_field(name=names[kind.kind], value=self._kind(interaction, kind), inline=True)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    def _kind(self, interaction: discord.Interaction, s: KindStatus) -> str:
        lines = [tr(interaction, "{workers} workers ({threads} threads)", workers=s.workers, threads=s.threads)]
        if s.maintenance:
            lines.append(tr(interaction, "{count} in maintenance", count=s.maintenance))
        lines.append(tr(interaction, "{waiting} waiting, {processing} in progress", waiting=s.waiting,
                        processing=s.processing))
        lines.append(tr(interaction, "{done} done in the last hour", done=s.done_last_hour))
        if s.waiting or s.processing:
            lines.append(tr(interaction, "queue clears in {eta}", eta=_eta(interaction, s.eta)))
        if not s.workers:
            lines.append(tr(interaction, "⚠️ nobody serves this now"))
        return "\n".join(lines)
