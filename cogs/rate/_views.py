"""The components of a /rate message: ten score buttons and an artifacts choice.

Every piece of state (which image, the artifacts value picked so far, the model filter) lives in the
custom_id (discord.ui.DynamicItem), so a /rate message keeps working after the bot restarts. The
regexes spell out the accepted values ("10" or one digit 1-9, artifacts 0-5 or "x" for none): a
custom_id is only a string a client sent us, and they are the rating's validation.
"""

from __future__ import annotations

import re
from typing import Any

import discord

SCORES = range(1, 11)
NO_ARTIFACTS = "x"
ARTIFACTS = {"0": "none", "1": "barely visible", "2": "minor", "3": "noticeable", "4": "major", "5": "severe"}
# custom_ids are at most 100 characters: "rate:s:" + a 36-character image id + ":10:x:" leaves 51 for the model.
MAX_MODEL = 50

_IMAGE = r"(?P<image>[0-9a-f-]{36})"
_MODEL = rf"(?::(?P<model>.{{1,{MAX_MODEL}}}))?"


def _cog(interaction: discord.Interaction) -> Any:
    return interaction.client.get_cog("Rate")  # type: ignore[attr-defined]


def _with_model(custom_id: str, model: str | None) -> str:
    return f"{custom_id}:{model}" if model else custom_id


class ScoreButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                  template=rf"rate:s:{_IMAGE}:(?P<score>10|[1-9]):(?P<artifacts>[0-5x]){_MODEL}"):
    """Scores an image of the shared pool, with the artifacts value picked before (if any)."""

    def __init__(self, image_id: str, score: int, artifacts: str = NO_ARTIFACTS, model: str | None = None) -> None:
        super().__init__(discord.ui.Button(
            label=str(score), style=discord.ButtonStyle.primary, row=0 if score <= 5 else 1,
            custom_id=_with_model(f"rate:s:{image_id}:{score}:{artifacts}", model)))
        self.image_id, self.score, self.artifacts, self.model = image_id, score, artifacts, model

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> ScoreButton:
        return cls(match["image"], int(match["score"]), match["artifacts"], match["model"])

    async def callback(self, interaction: discord.Interaction) -> None:
        artifacts = None if self.artifacts == NO_ARTIFACTS else int(self.artifacts)
        await _cog(interaction).score(interaction, self.image_id, self.score, artifacts, self.model)


class ArtifactsSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=rf"rate:a:{_IMAGE}{_MODEL}"):
    """Picking a value only rewrites the score buttons to carry it; nothing is stored until a score."""

    def __init__(self, image_id: str, chosen: str = NO_ARTIFACTS, model: str | None = None) -> None:
        options = [discord.SelectOption(label=f"{value} — {name}", value=value, default=value == chosen)
                   for value, name in ARTIFACTS.items()]
        options.append(discord.SelectOption(label="No artifacts score", value=NO_ARTIFACTS))  # to take one back
        super().__init__(discord.ui.Select(
            custom_id=_with_model(f"rate:a:{image_id}", model), row=2, options=options,
            placeholder="Optional: artifacts (distorted hands or faces, garbled text, seams)?"))
        self.image_id, self.model = image_id, model

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any,
                             match: re.Match[str]) -> ArtifactsSelect:
        return cls(match["image"], model=match["model"])

    async def callback(self, interaction: discord.Interaction) -> None:
        chosen = self.item.values[0] if self.item.values else NO_ARTIFACTS
        chosen = chosen if chosen in ARTIFACTS else NO_ARTIFACTS  # the values come from the client
        await interaction.response.edit_message(view=rating_view(self.image_id, chosen, self.model))


DYNAMIC_ITEMS = (ScoreButton, ArtifactsSelect)


def rating_view(image_id: str, artifacts: str = NO_ARTIFACTS, model: str | None = None) -> discord.ui.View:
    """Scores 1-5 and 6-10 on two rows, the artifacts choice below them."""
    view = discord.ui.View(timeout=None)
    for score in SCORES:
        view.add_item(ScoreButton(image_id, score, artifacts, model))
    view.add_item(ArtifactsSelect(image_id, artifacts, model))
    return view
