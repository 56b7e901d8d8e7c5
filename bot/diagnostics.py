"""Problems a feature wants guild admins to see in `/settings show`, without the settings cog knowing it.

A cog that can be misconfigured (a role above the bot's, a missing permission) defines
`async def settings_warnings(self, guild) -> list[str]`. The settings cog asks every loaded cog
through `collect()`, so features stay independent (cogs never import each other) and nothing has to
be registered or unregistered when cogs load, unload or the bot restarts.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol, runtime_checkable

import discord

log = logging.getLogger(__name__)


@runtime_checkable
class WarningSource(Protocol):
    async def settings_warnings(self, guild: discord.Guild) -> list[str]: ...


async def collect(bot: Any, guild: discord.Guild) -> list[str]:
    """Every loaded feature's warnings for this guild; a feature that fails to answer is logged, not fatal."""
    found: list[str] = []
    for name, cog in sorted(bot.cogs.items()):
        if not isinstance(cog, WarningSource):
            continue
        try:
            found.extend(await cog.settings_warnings(guild))
        except Exception:
            log.exception("cog %s could not report its warnings", name)
            found.append(f"{name}: could not check this feature (see the bot's log).")
    return found
