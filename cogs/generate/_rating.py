"""Rating one's own results from the result message: one image at a time, scores 1-10 as buttons.

Both buttons carry their state in the custom_id (discord.ui.DynamicItem), so a result posted before
a restart can still be rated."""

from __future__ import annotations

import io
import re
from typing import Any

import discord

from bot.errors import explain, reply_private
from bot.i18n import tr
from horde_core.service import HordeError
from horde_core.service.schemas import RateSpec


def _service(interaction: discord.Interaction) -> Any:
    return interaction.client.service  # type: ignore[attr-defined]


async def _next_prompt(interaction: discord.Interaction, request_id: str, user_id: int,
                       earned: int | None = None) -> dict[str, Any]:
    """The message that asks for the next unrated image's score, or thanks when all are rated."""
    service = _service(interaction)
    status = await service.status(request_id)
    ids = [g.id for g in status.generations if not g.censored]
    rated = await service.rated_by(user_id, ids)
    pending = [i for i in ids if i not in rated]
    thanks = tr(interaction, "Thanks! You earned {kudos} kudos.", kudos=earned) + " " if earned else ""
    if not pending:
        return {"content": thanks + tr(interaction, "Every image of this request is rated."), "view": None,
                "attachments": []}
    job_id = pending[0]
    view = discord.ui.View(timeout=None)
    for score in range(1, 11):
        item = ScoreButton(job_id, score)
        item.item.row = 0 if score <= 5 else 1
        view.add_item(item)
    data = await service.image_bytes(job_id) or b""
    position = ids.index(job_id) + 1
    return {"content": thanks + tr(interaction, "How good is image {position} of {total}? (1 = poor, 10 = superb)",
                                   position=position, total=len(ids)), "view": view,
            "attachments": [discord.File(io.BytesIO(data), filename=f"image-{position}.webp")]}


class RateButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"gen:rate:(?P<rid>[0-9a-f-]{36})"):
    """On a result: the requester rates their images (privately), for kudos."""

    def __init__(self, request_id: str, label: str = "Rate") -> None:
        super().__init__(discord.ui.Button(label=label, emoji="⭐", style=discord.ButtonStyle.secondary,
                                           custom_id=f"gen:rate:{request_id}"))
        self.request_id = request_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> RateButton:
        return cls(match["rid"])

    async def callback(self, interaction: discord.Interaction) -> None:
        service = _service(interaction)
        user = await interaction.client.member_user(interaction.user)  # type: ignore[attr-defined]
        outline = await service.request_outline(self.request_id)
        if outline["user_id"] != user.id:
            await reply_private(interaction, tr(interaction, "Only the member who asked for these images can rate them "
                                                             "here."))
            return
        prompt = await _next_prompt(interaction, self.request_id, user.id)
        files = prompt.pop("attachments")
        await interaction.response.send_message(**{k: v for k, v in prompt.items() if v is not None}, files=files,
                                                ephemeral=True)


class ScoreButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                  template=r"gen:score:(?P<job>[0-9a-f-]{36}):(?P<score>\d{1,2})"):
    def __init__(self, job_id: str, score: int) -> None:
        super().__init__(discord.ui.Button(label=str(score), style=discord.ButtonStyle.primary,
                                           custom_id=f"gen:score:{job_id}:{score}"))
        self.job_id, self.score = job_id, score

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> ScoreButton:
        return cls(match["job"], int(match["score"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        service = _service(interaction)
        user = await interaction.client.member_user(interaction.user)  # type: ignore[attr-defined]
        outline, _ = await service.job_outline(self.job_id)
        try:
            earned = await service.rate_own(user, outline["request_id"], RateSpec.model_validate(
                {"ratings": [{"id": self.job_id, "rating": self.score}]}), client_agent="hordebot:0.1:discord")
        except HordeError as exc:
            await reply_private(interaction, explain(exc, interaction))
            return
        await interaction.response.edit_message(**await _next_prompt(interaction, outline["request_id"], user.id,
                                                                     earned))
