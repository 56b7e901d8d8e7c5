"""Fixtures for tests of the real bot: HordeBot around a real core, inside the dpytest harness.

Bot tests run on SQLite only (the storage and API suites cover PostgreSQL).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot import create_bot
from horde_core.clock import FakeClock
from horde_core.config import AppConfig
from horde_core.service import HordeService
from tests.bot.harness import DiscordHarness, make_bot


@pytest.fixture
def backend() -> str:
    return "sqlite"


def build_bot(config: AppConfig, service: HordeService):  # type: ignore[no-untyped-def]
    config.bot.members_intent = True  # dpytest keeps its members through this intent
    return create_bot(config, service, sharded=False, sync_commands=False)


@pytest.fixture
async def h(service: HordeService, config: AppConfig, clock: FakeClock) -> AsyncIterator[DiscordHarness]:
    harness = await make_bot(build_bot(config, service), members=3, clock=clock)  # tokens expire on the core's clock
    try:
        yield harness
    finally:
        await harness.close()
