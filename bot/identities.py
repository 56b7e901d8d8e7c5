"""Discord members and core users, both ways.

The core stores identities (`discord:<id>`) on its users but offers no reverse lookup (core user id ->
identity). The bot learns the mapping forward, every time a feature resolves a member through this map,
and keeps it in memory: leaderboards and the role reconciler read it backwards. After a restart it is
rebuilt as members are met again, or for a whole guild with `resolve_guild` — which, like every other
use of the bot, gives members who have no horde account yet one (with the starting balance).
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
        """Discord id -> core id for these members (bots never have accounts)."""
        out: dict[int, int] = {}
        for member in members:
            if member.bot:
                continue
            known = self._core_of.get(member.id)
            out[member.id] = known if known is not None else (await self.user(member)).id
        return out

    async def resolve_guild(self, guild: discord.Guild) -> dict[int, int]:
        """Every cached member of a guild (needs the members intent); slow only the first time."""
        return await self.resolve(list(guild.members))


def identities(bot: Any) -> IdentityMap:
    """The bot's map, shared by every feature (kept beside the bot, gone with it)."""
    found = _MAPS.get(bot)
    if found is None:
        found = _MAPS[bot] = IdentityMap(bot)
    return found
