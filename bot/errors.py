"""Every failure a member meets is answered privately, with what to do next."""

from __future__ import annotations

import contextlib
import logging

import discord
from discord import app_commands

from horde_core.service import HordeError

from .i18n import tr

log = logging.getLogger(__name__)

HINTS = {
    "KudosUpfront": "Earn kudos by attaching a GPU worker (`/worker key`), or ask for fewer steps, images or pixels.",
    "TooManyPrompts": "Wait for your running requests to finish, then try again.",
    "RateLimited": "Slow down a little and try again in a few seconds.",
    "CorruptPrompt": "This prompt is against the rules of this community.",
}


PERMISSION_NAMES = {"manage_guild": "Manage Server", "manage_messages": "Manage Messages",
                    "manage_roles": "Manage Roles"}  # as Discord's own settings name them


class UserFacingError(Exception):
    """Raised by cogs for a refusal a member should read as it is. Give the English text as a template with
    its `params` and the member reads it in their language (`bot.i18n`)."""

    def __init__(self, message: str, /, **params: object) -> None:
        super().__init__(message.format(**params) if params else message)
        self.template = message
        self.params = params


async def reply_private(interaction: discord.Interaction, content: str, **kwargs: object) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=True, **kwargs)  # type: ignore[arg-type]
    else:
        await interaction.response.send_message(content, ephemeral=True, **kwargs)  # type: ignore[arg-type]


def explain(error: BaseException, interaction: discord.Interaction | None = None) -> str:
    """What to tell the member, in their language when `interaction` is given and a translation exists."""
    def say(english: str, **params: object) -> str:
        if interaction is None:
            return english.format(**params) if params else english
        return tr(interaction, english, **params)

    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, UserFacingError):
        return say(error.template, **error.params)
    if isinstance(error, HordeError):
        hint = HINTS.get(error.rc, "")
        return f"{error.message} {say(hint) if hint else ''}".strip()
    if isinstance(error, app_commands.MissingPermissions):
        perms = ", ".join(PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in error.missing_permissions)
        return say("You need the {perms} permission for this.", perms=perms)
    if isinstance(error, app_commands.NoPrivateMessage):
        return say("This command works in a server, not in direct messages.")
    if isinstance(error, app_commands.CommandOnCooldown):
        return say("Slow down: try again in {seconds} s.", seconds=f"{error.retry_after:.0f}")
    if isinstance(error, app_commands.CheckFailure):
        return say("You can't use this command here.")
    log.error("unexpected error in a command", exc_info=error)
    return say("Something went wrong on our side; it has been logged. Please try again.")


async def answer_privately(interaction: discord.Interaction, error: BaseException) -> None:
    """A refusal or failure after a deferral: the "thinking…" goes (a public one would otherwise turn into a public
    answer, since the first follow-up replaces it), and the member alone reads why and what to do."""
    if interaction.response.type == discord.InteractionResponseType.deferred_channel_message:
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()
    await reply_private(interaction, explain(error, interaction))


async def on_tree_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    try:
        await answer_privately(interaction, error)
    except discord.HTTPException:
        log.exception("could not tell the member about an error")
