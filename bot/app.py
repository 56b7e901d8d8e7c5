"""The bot: a discord.py Bot built by a factory around the core's HordeService."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from horde_core.config import AppConfig
from horde_core.service import HordeService

from . import settings as guild_settings
from .deliveries import Deliveries
from .errors import on_tree_error
from .i18n import HordeTranslator

log = logging.getLogger(__name__)

EXTENSIONS = ("cogs.account", "cogs.settings", "cogs.generate", "cogs.chat", "cogs.describe", "cogs.abuse",
              "cogs.kudos", "cogs.roles", "cogs.rate", "cogs.info", "cogs.gallery", "cogs.party")


class HordeBot(commands.Bot):
    """Holds the core service and the configuration; cogs reach the core only through `service`."""

    def __init__(self, config: AppConfig, service: HordeService, *, sync_commands: bool = True,
                 extensions: tuple[str, ...] = EXTENSIONS) -> None:
        intents = discord.Intents.default()
        intents.message_content = config.bot.message_content_intent
        intents.members = config.bot.members_intent
        shards: dict[str, object] = {}
        if isinstance(self, commands.AutoShardedBot) and config.bot.shard_count:
            # One of several bot processes: only these shards here (the others run elsewhere).
            shards = {"shard_count": config.bot.shard_count, "shard_ids": list(config.bot.shard_ids) or None}
        super().__init__(command_prefix=commands.when_mentioned, intents=intents,
                         allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True),
                         **shards)
        self.config = config
        self.service = service
        self.sync_commands = sync_commands
        self.extensions_to_load = extensions
        self.tree.on_error = on_tree_error
        self.deliveries = Deliveries(self)  # every result owed to a member, followed from the database

    async def setup_hook(self) -> None:
        await self.tree.set_translator(HordeTranslator())
        for name in self.extensions_to_load:
            await self.load_extension(name)
        await self.deliveries.start()  # carry on with what the previous process had not delivered
        if self.sync_commands:
            guild_id = self.config.bot.dev_guild_id
            if guild_id:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("synced %d commands to development guild %s", len(synced), guild_id)
            else:
                synced = await self.tree.sync()
                log.info("synced %d commands globally (may take up to an hour to appear)", len(synced))

    async def close(self) -> None:
        await self.deliveries.stop()  # hand open deliveries back at once: the next process resumes them
        await super().close()

    async def guild_settings(self, guild_id: int | None) -> guild_settings.GuildSettings:
        return await guild_settings.load(self.service, guild_id)

    async def member_user(self, user: discord.abc.User):  # type: ignore[no-untyped-def]
        """The member's core user. Every feature asks for it before it asks the core for work, so this is
        also where the core learns the member's roles (role quotas depend on them)."""
        from .members import core_user

        if isinstance(user, discord.Member):
            self.service.note_member_roles(guild_settings.scope(user.guild.id), user.id, [r.id for r in user.roles])
        return await core_user(self.service, user, self.config.bot.starting_kudos)


class ShardedHordeBot(HordeBot, commands.AutoShardedBot):
    """The same bot, sharded automatically for many guilds."""


def create_bot(config: AppConfig, service: HordeService, *, sharded: bool | None = None,
               **kwargs: object) -> HordeBot:
    """Build the bot; cogs are loaded in setup_hook when it logs in (or when tests call it)."""
    split = bool(config.bot.shard_ids or config.bot.shard_count)
    cls = ShardedHordeBot if (config.bot.sharded or split if sharded is None else sharded) else HordeBot
    return cls(config, service, **kwargs)  # type: ignore[arg-type]
