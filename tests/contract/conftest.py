"""Fixtures of the horde-sdk contract tests: one HTTP session and the SDK's clients on it."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from horde_sdk.ai_horde_api.ai_horde_clients import AIHordeAPIAsyncManualClient, AIHordeAPIAsyncSimpleClient


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def manual(http: aiohttp.ClientSession) -> AIHordeAPIAsyncManualClient:
    return AIHordeAPIAsyncManualClient(http)


@pytest.fixture
def simple(http: aiohttp.ClientSession) -> AIHordeAPIAsyncSimpleClient:
    return AIHordeAPIAsyncSimpleClient(aiohttp_session=http)
