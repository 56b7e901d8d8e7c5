"""Process roles and bot shards: what `python main.py --role ...` runs, and how a split bot is configured."""

from __future__ import annotations

import argparse

import pytest
from discord.ext import commands
from pydantic import ValidationError

from bot import create_bot
from horde_core.config import AppConfig
from horde_core.service import HordeService
from main import ROLES, parse_args, parse_roles, serve


def test_roles_parse() -> None:
    assert parse_args([]).role == frozenset(ROLES)
    assert parse_args(["--role", "all"]).role == {"api", "bot", "sweeper"}
    assert parse_args(["--role", "api"]).role == {"api"}
    assert parse_roles("api, sweeper") == {"api", "sweeper"}
    for bad in ("", "web", "api,worker", "all,api"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_roles(bad)


async def test_a_bot_role_without_a_token_refuses_to_start(config: AppConfig) -> None:
    assert await serve(config, frozenset({"bot"})) == 2


def test_a_split_bot_runs_only_its_shards(service: HordeService, config: AppConfig) -> None:
    config.bot.shard_ids, config.bot.shard_count = [2, 3], 4
    bot = create_bot(config, service, sync_commands=False)
    assert isinstance(bot, commands.AutoShardedBot)
    assert bot.shard_ids == [2, 3] and bot.shard_count == 4
    config.bot.shard_ids = []
    whole = create_bot(config, service, sync_commands=False)
    assert whole.shard_ids is None and whole.shard_count == 4  # every shard of four, in this process


@pytest.mark.parametrize("bot", [{"shard_ids": [1]}, {"shard_ids": [4], "shard_count": 4}])
def test_shards_must_fit_their_count(bot: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AppConfig(bot=bot)
