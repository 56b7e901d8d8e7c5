"""Upstream tests: the public horde of tests/public_horde.py, and a relay of the local core pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from horde_core.service import HordeService
from horde_core.upstream import UpstreamRelay, client_for
from tests.public_horde import Public, public, upstream_settings

__all__ = ["public"]


@pytest.fixture
async def relay(service: HordeService, public: Public) -> AsyncIterator[UpstreamRelay]:
    service.config.upstream = upstream_settings(public)
    relay = UpstreamRelay(service, client_for(service.config))
    try:
        yield relay
    finally:
        await relay.client.close()
