"""Discord members as core users: every member is a horde user on first use."""

from __future__ import annotations

import discord

from horde_core.service import HordeService, UserRow

CLIENT_AGENT = "hordebot:0.1:discord"


def identity(user: discord.abc.User) -> str:
    return f"discord:{user.id}"


def proxied_account(guild_id: int | None, user_id: int) -> str:
    """Who abuse is attributed to: the member in the guild, never the bot as a whole."""
    return f"discord:{guild_id or 'dm'}:{user_id}"


async def core_user(service: HordeService, user: discord.abc.User, starting_kudos: int) -> UserRow:
    return await service.user_for_identity(identity(user), user.name, starting_kudos=starting_kudos)
