"""/generate's `style` option: the choices (the server's curated styles first, then the horde's public image
styles matching what is typed) and the checks a style passes before anything is public or paid: it exists,
it is not NSFW outside age-restricted channels, and it asks no more steps or pixels than the server allows.
The core applies the style itself (horde_core/service/styles.py); the bot only names it."""

from __future__ import annotations

from typing import Any

from discord import app_commands

from bot.errors import UserFacingError
from horde_core.service import HordeError, HordeService, StyleLimits

from ._options import GenerateOptions


async def choices(service: HordeService, settings: Any, current: str, *,
                  nsfw_allowed: bool) -> list[app_commands.Choice[str]]:
    typed = current.strip().lower()
    picked = [app_commands.Choice(name=f"★ {n}"[:100], value=n) for n in settings["styles"] if typed in n.lower()]
    seen = {c.value for c in picked}
    for found in await service.search_styles(current, 25):
        if found.name in seen or (found.nsfw and not nsfw_allowed):
            continue
        seen.add(found.name)
        label = f"{found.name} — {found.creator}" + (" (NSFW)" if found.nsfw else "")
        picked.append(app_commands.Choice(name=label[:100], value=found.name))
    return picked[:25]


async def check(service: HordeService, settings: Any, opts: GenerateOptions, *, nsfw_allowed: bool,
                party_style: str = "") -> StyleLimits | None:
    """The style this request uses (the member's; else, when no LoRA or TI is picked, the style of the party
    running in the channel, else the server's default), refused with a reason the member can act on; None
    without one."""
    name = opts.style.strip()
    if name and (opts.lora or opts.ti):
        raise UserFacingError("A style brings its own LoRAs and models: pick a style or a LoRA/textual "
                              "inversion, not both.")
    if not name and not (opts.lora or opts.ti):
        name = party_style or settings["default_style"]
    if not name:
        return None
    try:
        limits = await service.style_limits(name)
    except HordeError:
        raise UserFacingError("There is no image style `{name}` on the horde.", name=name) from None
    if limits.nsfw and not nsfw_allowed:
        raise UserFacingError("The style `{style}` makes NSFW images: use it in an age-restricted channel.",
                              style=name)
    if limits.steps > settings["max_steps"]:
        raise UserFacingError("This server allows at most {steps} steps.", steps=settings["max_steps"])
    if limits.side > settings["max_size"]:
        raise UserFacingError("This server allows images up to {max_size} pixels wide or high; the style "
                              "`{style}` makes {side}.", max_size=settings["max_size"], style=name, side=limits.side)
    return limits


def apply(request: dict[str, Any], limits: StyleLimits | None) -> None:
    """Name the style in the request and take its models, so the bot's "is anyone serving it" check looks at
    the models the core will use."""
    if limits is not None:
        request["style"] = limits.name
        request["models"] = list(limits.models)
