"""Discord members and core users, both ways.

The core keeps identities (`discord:<id>`) on its users and looks them up in bulk both ways; this map
caches what it learned, so leaderboards and the role reconciler don't ask again. Looking members up never
creates horde accounts: a member who never used the bot simply has none (and earns no automatic role).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

import discord

from horde_core.service import UserRow

_MAPS: weakref.WeakKeyDictionary[Any, IdentityMap] = weakref.WeakKeyDictionary()


class IdentityMap:
    """Discord user id <-> core user id for one bot process; a restart starts empty."""

    def __init__(self, bot: Any) -> None:
        self._bot = bot
        self._core_of: dict[int, int] = {}
        self._discord_of: dict[int, int] = {}

    def learn(self, discord_id: int, core_id: int) -> None:
        self._core_of[discord_id] = core_id
        self._discord_of[core_id] = discord_id

    async def user(self, member: discord.abc.User) -> UserRow:
        """The member's core user (created on first use), remembered for the way back."""
        row: UserRow = await self._bot.member_user(member)
        self.learn(member.id, row.id)
        return row

    def discord_id(self, core_id: int) -> int | None:
        return self._discord_of.get(core_id)

    def core_id(self, discord_id: int) -> int | None:
        return self._core_of.get(discord_id)

    async def resolve(self, members: Iterable[discord.Member]) -> dict[int, int]:
        """Discord id -> core id for the members that have a horde account (bots never do)."""
        humans = [m.id for m in members if not m.bot]
        unknown = [d for d in humans if d not in self._core_of]
        if unknown:
            found = await self._bot.service.users_for_identities([f"discord:{d}" for d in unknown])
            for key, core_id in found.items():
                self.learn(int(key.split(":", 1)[1]), core_id)
        return {d: self._core_of[d] for d in humans if d in self._core_of}

    async def discord_ids(self, core_ids: Iterable[int]) -> dict[int, int]:
        """Core id -> Discord id for the users that came from Discord."""
        wanted = set(core_ids)
        unknown = [c for c in wanted if c not in self._discord_of]
        if unknown:
            found = await self._bot.service.identities_for_users(unknown, "discord:")
            for core_id, key in found.items():
                tail = key.split(":", 1)[1]
                if tail.isdigit():
                    self.learn(int(tail), core_id)
        return {c: self._discord_of[c] for c in wanted if c in self._discord_of}

    async def resolve_guild(self, guild: discord.Guild) -> dict[int, int]:
        """Every cached member of a guild (needs the members intent); slow only the first time."""
        return await self.resolve(list(guild.members))


def identities(bot: Any) -> IdentityMap:
    """The bot's map, shared by every feature (kept beside the bot, gone with it)."""
    found = _MAPS.get(bot)
    if found is None:
        found = _MAPS[bot] = IdentityMap(bot)
    return found
