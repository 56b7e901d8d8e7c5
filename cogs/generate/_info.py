"""The Info button's answer: every parameter of a request, the seed, model and worker of each image, and what
it cost, from the core's record of the request (so it works for any result, after any restart)."""

from __future__ import annotations

from typing import Any

import discord

from bot.i18n import tr
from horde_core.service import RequestStatus

from ._requests import split_prompt

SHOWN = (  # parameter, label; in the order members read them
    ("sampler_name", "Sampler"), ("cfg_scale", "Guidance"), ("denoising_strength", "Strength"),
    ("karras", "Karras"), ("clip_skip", "CLIP skip"), ("hires_fix", "Hires fix"), ("tiling", "Tiling"),
    ("post_processing", "Post-processing"), ("seed_variation", "Seed variation"),
)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def info_embed(interaction: discord.Interaction, outline: dict[str, Any], status: RequestStatus | None
               ) -> discord.Embed:
    def say(english: str, **params: Any) -> str:
        return tr(interaction, english, **params)

    params = outline["params"]
    positive, negative = split_prompt(outline["prompt"])
    embed = discord.Embed(title=say("Every parameter"), description=positive[:4000] or "—",
                          colour=discord.Colour.blurple())
    if negative:
        embed.add_field(name=say("Negative"), value=negative[:1024], inline=False)
    embed.add_field(name=say("Models asked for"), value=", ".join(outline["models"][:10])[:1024] or say("any"))
    embed.add_field(name=say("Size"), value=f"{params.get('width', 512)}x{params.get('height', 512)}")
    embed.add_field(name=say("Steps"), value=str(params.get("steps", 30)))
    embed.add_field(name=say("Images"), value=str(outline["n"]))
    for key, label in SHOWN:
        if params.get(key) is not None:
            embed.add_field(name=say(label), value=_value(params[key]))
    loras = ", ".join(str(lo.get("name")) for lo in params.get("loras") or [])
    tis = ", ".join(str(t.get("name")) for t in params.get("tis") or [])
    if loras:
        embed.add_field(name=say("LoRAs"), value=loras[:1024])
    if tis:
        embed.add_field(name=say("Textual inversions"), value=tis[:1024])
    embed.add_field(name=say("Source image"), value=say("yes (img2img)") if outline["img2img"] else say("no"))
    embed.add_field(name=say("NSFW allowed"), value=_value(outline["nsfw"]))
    embed.add_field(name=say("Shared with the dataset"), value=_value(outline["shared"]))
    if status is not None and status.generations:
        lines = [say("{number}. seed `{seed}` · {model} · {worker}", number=i + 1, seed=g.seed, model=g.model,
                     worker=g.worker_name) + (say(" (censored)") if g.censored else "")
                 for i, g in enumerate(status.generations)]
        embed.add_field(name=say("Images made"), value="\n".join(lines)[:1024], inline=False)
    spent = status.progress.kudos if status is not None else None
    cost = say("{held} kudos held", held=outline["cost"])
    if spent is not None:
        cost += say(", {spent} kudos spent", spent=spent)
    embed.add_field(name=say("Cost"), value=cost, inline=False)
    return embed
