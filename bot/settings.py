"""Guild settings, declared once with their defaults and limits.

The core stores what admins changed (opaque JSON per guild); everything else is the default
declared here. Unknown keys and out-of-range values are refused with a message that says why.

Most settings are one value an admin types into `/settings set`. A few are structured (a map of
emoji to amounts, a list of role rules): they are declared here too, so `/settings show` lists
them and unknown keys stay refused, but only their own commands change them (`edit_with`), each
through `store()` with a value the feature already validated.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from horde_core.service import HordeService


class SettingError(ValueError):
    """A value an admin tried to set that cannot be accepted; the message says what would be. Like
    UserFacingError it keeps its English template and `params`, so admins read it in their language."""

    def __init__(self, message: str, /, **params: Any) -> None:
        super().__init__(message.format(**params) if params else message)
        self.template = message
        self.params = params


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    default: Any
    description: str
    minimum: int | None = None
    maximum: int | None = None
    multiple_of: int | None = None
    choices: tuple[str, ...] = ()
    edit_with: str = ""  # structured settings: the command that changes them (never /settings set)
    summary: Callable[[Any], str] | None = None  # how /settings show sums up a structured value

    @property
    def structured(self) -> bool:
        return bool(self.edit_with)

    def fresh_default(self) -> Any:
        """A copy, so nobody mutates the declared default of a map or a list."""
        return copy.deepcopy(self.default)

    def parse(self, raw: str) -> Any:
        """Turn what an admin typed into a value of this setting's type, or refuse it."""
        if self.structured:
            raise SettingError("`{key}` is changed with `{command}`.", key=self.key, command=self.edit_with)
        text = raw.strip()
        if isinstance(self.default, bool):
            lowered = text.lower()
            if lowered in ("on", "true", "yes", "1", "enable", "enabled"):
                return True
            if lowered in ("off", "false", "no", "0", "disable", "disabled"):
                return False
            raise SettingError("`{key}` is on or off.", key=self.key)
        if isinstance(self.default, int):
            try:
                value = int(text)
            except ValueError:
                raise SettingError("`{key}` is a whole number.", key=self.key) from None
            if self.minimum is not None and value < self.minimum:
                raise SettingError("`{key}` is at least {minimum}.", key=self.key, minimum=self.minimum)
            if self.maximum is not None and value > self.maximum:
                raise SettingError("`{key}` is at most {maximum}.", key=self.key, maximum=self.maximum)
            if self.multiple_of and value % self.multiple_of:
                raise SettingError("`{key}` is a multiple of {step}.", key=self.key, step=self.multiple_of)
            return value
        if isinstance(self.default, list):
            ids = [part.strip().lstrip("<#").rstrip(">") for part in text.replace(",", " ").split()]
            if not all(i.isdigit() for i in ids):
                raise SettingError("`{key}` is a list of channels (mention them, or give their ids).", key=self.key)
            return [int(i) for i in ids]
        if self.choices and text not in self.choices:
            raise SettingError("`{key}` is one of: {choices}.", key=self.key, choices=", ".join(self.choices))
        if len(text) > 200:
            raise SettingError("`{key}` is at most 200 characters.", key=self.key)
        return text


SETTINGS: dict[str, Setting] = {s.key: s for s in (
    Setting("generate", True, "Members may use /generate."),
    Setting("chat", True, "Members may use /chat."),
    Setting("describe", True, "Members may describe images."),
    Setting("allowed_channels", [], "Channels where the bot answers (empty: everywhere)."),
    Setting("default_model", "", "Model used when a member picks none (empty: any)."),
    Setting("default_size", 512, "Default image width and height.", 64, 3072, 64),
    Setting("max_size", 1024, "Largest width or height a member may ask for.", 64, 3072, 64),
    Setting("default_steps", 30, "Default sampling steps.", 1, 500),
    Setting("max_steps", 50, "Most sampling steps a member may ask for.", 1, 500),
    Setting("max_images", 4, "Most images per /generate.", 1, 4),
    Setting("nsfw", "age_restricted", "NSFW: only in age-restricted channels, or never.",
            choices=("age_restricted", "never")),
    Setting("blocked_words", "", "Words members may not use in prompts, comma-separated (refused before anything "
            "is queued, so they never reach a worker or the upstream horde)."),
    Setting("long_queues", "wait", "A request still queued when Discord stops letting the bot edit its reply (15 min): "
            "wait, and post the result in the channel when done; or cancel it and refund the kudos.",
            choices=("wait", "cancel")),
    Setting("daily_images", 0, "Images a member may generate per day (0: no limit); roles may get more with "
            "/settings quotas.", 0, 100_000),
    # The core enforces max_in_flight, daily_images and role_quotas where requests are accepted
    # (horde_core/service/fairness.py reads them under these names).
    Setting("max_in_flight", 0, "Requests a member may have in flight at once (0: no limit).", 0, 100),
    Setting("role_quotas", {}, "Images a day for members with these roles (beats daily_images).",
            edit_with="/settings quotas", summary=lambda v: ", ".join(
                f"<@&{r}> {n or 'unlimited'}" for r, n in v.items()) or "none"),
    Setting("describe_nsfw_check", False, "Also run an NSFW check when describing images."),
    Setting("alert_channel", 0, "Channel id for moderation alerts (0: none).", 0),
    Setting("kudos_daily_cap", 500, "Kudos a member may gift with emoji per day.", 1, 1_000_000),
    Setting("kudos_recipient_cap", 1000, "Kudos a member may receive as emoji gifts per day.", 1, 1_000_000),
    Setting("kudos_cooldown", 10, "Seconds between two emoji gifts of one member.", 0, 86_400),
    Setting("kudos_ack", "reaction", "How a gift is acknowledged: a reaction, a DM to the recipient, or silence.",
            choices=("reaction", "dm", "silent")),
    Setting("kudos_confirm_at", 100, "Transfers of at least this many kudos ask for a confirmation.", 1, 10**9),
    Setting("kudos_emoji", {}, "Emoji that gift kudos when members react with them.",
            edit_with="/settings kudos-emoji", summary=lambda v: " ".join(
                f"{e['emoji']} {e['amount']}" for e in v.values()) or "none"),
    Setting("role_rules", [], "Roles given and taken automatically.", edit_with="/settings roles",
            summary=lambda v: f"{len(v)} rule{'s' if len(v) != 1 else ''}" if v else "none"),
    Setting("styles", [], "Horde styles offered first when members pick a style.", edit_with="/settings styles",
            summary=lambda v: ", ".join(v) or "none"),
    Setting("default_style", "", "Style applied when a member picks none (empty: none).",
            edit_with="/settings styles", summary=lambda v: v or "none"),
)}


@dataclass(slots=True)
class GuildSettings:
    """A guild's settings: what admins changed over the declared defaults."""

    guild_id: int
    changed: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        if key not in SETTINGS:
            raise KeyError(key)
        setting = SETTINGS[key]
        if key not in self.changed:
            return setting.fresh_default()
        # a map or list may be the core's cached copy: callers get their own
        return copy.deepcopy(self.changed[key]) if setting.structured else self.changed[key]

    def items(self) -> list[tuple[Setting, Any, bool]]:
        """(setting, value, changed?) for display."""
        return [(s, self[s.key], s.key in self.changed) for s in SETTINGS.values()]


def scope(guild_id: int) -> str:
    return f"discord:guild:{guild_id}"


async def load(service: HordeService, guild_id: int | None) -> GuildSettings:
    if guild_id is None:
        return GuildSettings(0)
    stored = await service.community_settings(scope(guild_id))
    return GuildSettings(guild_id, {k: v for k, v in stored.items() if k in SETTINGS})


async def change(service: HordeService, guild_id: int, key: str, raw: str | None, actor: str) -> GuildSettings:
    """Set (or with None, reset) one setting after validating it."""
    setting = SETTINGS.get(key)
    if setting is None:
        raise SettingError("There is no setting `{key}`. Settings: {keys}.", key=key, keys=", ".join(SETTINGS))
    value = None if raw is None else setting.parse(raw)
    stored = await service.update_community_settings(scope(guild_id), {key: value}, actor)
    return GuildSettings(guild_id, {k: v for k, v in stored.items() if k in SETTINGS})


async def store(service: HordeService, guild_id: int, key: str, value: Any, actor: str) -> GuildSettings:
    """Save a structured setting's whole new value (already validated by the feature that owns it).

    An empty map or list is stored as "back to the default", so the guild's document stays small.
    """
    setting = SETTINGS.get(key)
    if setting is None or not setting.structured:
        raise SettingError("There is no structured setting `{key}`.", key=key)
    stored = await service.update_community_settings(scope(guild_id), {key: value or None}, actor)
    return GuildSettings(guild_id, {k: v for k, v in stored.items() if k in SETTINGS})
