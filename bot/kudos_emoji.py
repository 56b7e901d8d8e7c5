"""Which reactions gift kudos in a guild: the `kudos_emoji` setting, its keys and its validation.

Stored as {key: {"emoji", "amount", "title", "message"}}. The key is what a reaction is matched on:
a custom emoji's id (its name may change, its id never does) or a Unicode emoji without variation
selectors (clients send "❤️" and "❤" for the same heart). `emoji` is frozen when the admin maps it and
is what the core records, so one reaction is one gift even if the custom emoji is renamed later.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import discord

from .settings import SettingError

MAX_EMOJI = 20
MAX_AMOUNT = 1_000_000
_VARIATION_SELECTORS = {"\ufe0e", "\ufe0f"}


@dataclass(frozen=True, slots=True)
class GiftEmoji:
    key: str
    emoji: str  # as shown and as recorded by the core: "👍" or "<:kudos:123>"
    amount: int
    title: str = ""
    message: str = ""

    def stored(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("key")
        return data


def key_of(emoji: discord.PartialEmoji | discord.Emoji | str) -> str:
    """The match key of a reaction's emoji (or of what an admin typed)."""
    if isinstance(emoji, str):
        emoji = discord.PartialEmoji.from_str(emoji.strip())
    if emoji.id is not None:
        return str(emoji.id)
    return "".join(c for c in str(emoji.name) if c not in _VARIATION_SELECTORS)


def _looks_like_unicode_emoji(text: str) -> bool:
    if not text or len(text) > 16 or any(c.isspace() for c in text):
        return False
    if all(ord(c) < 128 for c in text):
        return False
    return any(unicodedata.category(c) == "So" or 0x1F1E6 <= ord(c) <= 0x1F1FF or c == "\u20e3" for c in text)


def parse(text: str, amount: int, title: str | None = None, message: str | None = None, *,
          guild_emojis: Iterable[discord.Emoji] = ()) -> GiftEmoji:
    """What an admin typed (`👍`, `<:kudos:123>`, `kudos:123`, or the name of one of the guild's emoji)."""
    raw = text.strip()
    if not 1 <= amount <= MAX_AMOUNT:
        raise SettingError("A gift is 1 to {most} kudos.", most=f"{MAX_AMOUNT:,}")
    partial = discord.PartialEmoji.from_str(raw)
    if partial.id is None:
        named = raw.strip(":")
        match = next((e for e in guild_emojis if e.name == named), None)
        if match is not None:
            partial = discord.PartialEmoji(name=match.name, id=match.id, animated=match.animated)
    if partial.id is not None:
        shown = f"<{'a' if partial.animated else ''}:{partial.name or 'emoji'}:{partial.id}>"
    elif _looks_like_unicode_emoji(raw):
        shown = raw
    else:
        raise SettingError("`{raw}` is not an emoji: pick one from the emoji picker (a custom emoji of this "
                           "server works too).", raw=raw)
    return GiftEmoji(key_of(partial), shown, amount, (title or "").strip()[:100], (message or "").strip()[:200])


def entries(mapping: Mapping[str, Any]) -> list[GiftEmoji]:
    return [_entry(key, stored) for key, stored in mapping.items()]


def _entry(key: str, stored: Mapping[str, Any]) -> GiftEmoji:
    return GiftEmoji(key, str(stored["emoji"]), int(stored["amount"]), str(stored.get("title") or ""),
                     str(stored.get("message") or ""))


def lookup(mapping: Mapping[str, Any], emoji: discord.PartialEmoji | str) -> GiftEmoji | None:
    """The gift a reaction with this emoji makes in a guild, or None when it makes none."""
    key = key_of(emoji)
    return _entry(key, mapping[key]) if key in mapping else None


def with_entry(mapping: Mapping[str, Any], entry: GiftEmoji) -> dict[str, Any]:
    """A new map with `entry` added (or its amount, title and message replaced)."""
    new = {k: dict(v) for k, v in mapping.items()}
    if entry.key not in new and len(new) >= MAX_EMOJI:
        raise SettingError("A server can map at most {most} emoji; remove one first.", most=MAX_EMOJI)
    new[entry.key] = entry.stored()
    return new


def without(mapping: Mapping[str, Any], text: str) -> tuple[dict[str, Any], GiftEmoji]:
    """A new map without the emoji an admin named (by the emoji itself, or its key from autocomplete)."""
    raw = text.strip()
    key = raw if raw in mapping else key_of(raw)
    if key not in mapping:
        raise SettingError("{raw} gifts no kudos here; `/settings kudos-emoji list` shows the mapped emoji.", raw=raw)
    return {k: dict(v) for k, v in mapping.items() if k != key}, _entry(key, mapping[key])
