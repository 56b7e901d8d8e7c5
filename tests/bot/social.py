"""Helpers shared by the kudos and roles tests (not a test module)."""

from __future__ import annotations

from typing import Any

import discord
from discord.ext.test import backend as dpy_backend

from horde_core.service import HordeService, UserRow
from tests.bot.harness import CapturedCall, DiscordHarness

REACTIONS = "/channels/{channel_id}/messages/{message_id}/reactions/"
ROLE_EDIT = "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"


async def admin(h: DiscordHarness, index: int = 0) -> discord.Member:
    member = h.member(index)
    await h.grant(member, manage_guild=True)
    return member


async def configure(service: HordeService, h: DiscordHarness, **values: Any) -> None:
    """Guild settings as an admin would leave them (what /settings set stores)."""
    await service.update_community_settings(f"discord:guild:{h.guild.id}", values, "test")


async def account(service: HordeService, member: discord.abc.User) -> UserRow:
    """The member's core user, created as the bot would (with the starting balance)."""
    return await service.user_for_identity(f"discord:{member.id}", member.name,
                                           starting_kudos=service.config.bot.starting_kudos)


async def kudos(service: HordeService, member: discord.abc.User) -> int:
    return (await account(service, member)).kudos


def dms(h: DiscordHarness, member: discord.Member) -> list[str]:
    channel = member.dm_channel
    return [m.content or "" for m in h.sent(channel)] if channel is not None else []


def calls(h: DiscordHarness, method: str, prefix: str) -> list[CapturedCall]:
    return [c for c in h.calls if c.method == method and c.path.startswith(prefix)]


def make_role(h: DiscordHarness, name: str, position: int, **permissions: bool) -> discord.Role:
    """A guild role at a given position (dpytest puts every new role at position 1)."""
    perms = discord.Permissions(**permissions)
    role = dpy_backend.make_role(name, h.guild, permissions=perms.value)
    data = {"guild_id": h.guild.id, "role": {**dpy_backend.facts.dict_from_role(role), "position": position}}
    dpy_backend.get_state().parse_guild_role_update(data)
    return role
