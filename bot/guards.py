"""Checks every feature cog makes before spending a member's kudos, shared so they read the same.

A feature switched off, a channel the admins did not allow, or an age-restricted-only option: each is
refused with one sentence that says what the member can do instead.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.errors import answer_privately
from bot.settings import GuildSettings

BLANK_PROMPT = ("Your prompt is empty (spaces only). Write what you want, then send the command again; "
                "nothing was charged.")


def blank(text: str | None) -> bool:
    """Discord counts spaces as text, so a prompt of spaces passes its length check; it asks for nothing."""
    return not (text or "").strip()


def channel_allows_nsfw(channel: Any) -> bool:
    """Threads inherit the age restriction of the channel they live in."""
    if isinstance(channel, discord.Thread):
        channel = channel.parent
    is_nsfw = getattr(channel, "is_nsfw", None)
    return bool(is_nsfw()) if callable(is_nsfw) else False


def channel_allowed(settings: GuildSettings, channel: Any, channel_id: int | None = None) -> bool:
    """`allowed_channels` names channels; a thread counts as part of the channel it was started in."""
    allowed = settings["allowed_channels"]
    if not allowed:
        return True
    ids = {channel_id, getattr(channel, "id", None)}
    if isinstance(channel, discord.Thread):
        ids.add(channel.parent_id)
    return bool(ids & set(allowed))


def blocked_word(settings: GuildSettings, *texts: str | None) -> str | None:
    """The first of the guild's `blocked_words` in these texts, or None. Single words match whole words in
    any case ("ham" does not block "hamster"); entries with spaces match as phrases."""
    words = [w.strip().lower() for w in settings["blocked_words"].split(",") if w.strip()]
    if not words:
        return None
    text = " ".join(t for t in texts if t).lower()
    tokens = set(re.findall(r"[\w'-]+", text))
    return next((w for w in words if (w in text if " " in w else w in tokens)), None)


def refusal(settings: GuildSettings, feature: str, what: str, channel: Any,
            channel_id: int | None = None) -> str | None:
    """Why this feature may not run here, or None when it may."""
    if not settings[feature]:
        return f"{what} is switched off on this server."
    if not channel_allowed(settings, channel, channel_id):
        allowed = settings["allowed_channels"]
        return "I answer only in " + ", ".join(f"<#{c}>" for c in allowed) + "."
    return None


async def refuse_after_defer(interaction: discord.Interaction, error: BaseException) -> None:
    """A public "thinking…" must not stay behind a refusal or an error: remove it, then answer privately (an
    unexpected error is logged and answered with "something went wrong")."""
    await answer_privately(interaction, error)
