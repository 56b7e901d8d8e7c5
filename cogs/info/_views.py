"""The maintenance switch on /workers: one button per worker the member owns. Its state (worker and the
mode it switches to) lives in the custom_id, so it keeps working after a restart; the core checks that
whoever clicks owns the worker."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.i18n import tr
from horde_core.service import WorkerInfo

MAX_SWITCHES = 10


def _cog(interaction: discord.Interaction) -> Any:
    return interaction.client.get_cog("Info")  # type: ignore[attr-defined]


class MaintenanceSwitch(discord.ui.DynamicItem[discord.ui.Button[Any]],
                       template=r"info:maint:(?P<worker>[0-9a-f-]{36}):(?P<on>[01])"):
    def __init__(self, worker_id: str, on: bool, label: str = "") -> None:
        super().__init__(discord.ui.Button(
            label=(label or worker_id)[:80], emoji="🛠️" if on else "▶️",
            style=discord.ButtonStyle.secondary if on else discord.ButtonStyle.success,
            custom_id=f"info:maint:{worker_id}:{int(on)}"))
        self.worker_id, self.on = worker_id, on

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any,
                             match: re.Match[str]) -> MaintenanceSwitch:
        return cls(match["worker"], match["on"] == "1")

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).switch_maintenance(interaction, self.worker_id, self.on)


def switches(interaction: discord.Interaction, own: list[WorkerInfo]) -> discord.ui.View | None:
    """Buttons that put each of the member's workers into maintenance, or take it out."""
    if not own:
        return None
    view = discord.ui.View(timeout=None)
    for w in own[:MAX_SWITCHES]:
        label = (tr(interaction, "Resume {name}", name=w.name) if w.maintenance_mode
                 else tr(interaction, "Maintenance: {name}", name=w.name))
        view.add_item(MaintenanceSwitch(w.id, not w.maintenance_mode, label))
    return view


DYNAMIC_ITEMS = (MaintenanceSwitch,)
