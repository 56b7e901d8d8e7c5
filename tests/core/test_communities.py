"""Community (guild) settings: stored as the bot declares them, cached, changed concurrently, logged."""

from __future__ import annotations

import asyncio

from horde_core.service import HordeService


async def test_settings_round_trip_and_log(service: HordeService) -> None:
    scope = "discord:guild:1"
    assert await service.community_settings(scope) == {}
    out = await service.update_community_settings(scope, {"max_steps": 40, "nsfw": False}, "discord:7")
    assert out == {"max_steps": 40, "nsfw": False}
    assert await service.community_settings(scope) == out
    assert await service.update_community_settings(scope, {"max_steps": 40}, "discord:7") == out  # no change
    await service.update_community_settings(scope, {"max_steps": None}, "discord:8")
    assert await service.community_settings(scope) == {"nsfw": False}
    log = await service.community_settings_history(scope)
    assert [(e["key"], e["actor"]) for e in log] == [("max_steps", "discord:8"), ("nsfw", "discord:7"),
                                                      ("max_steps", "discord:7")]
    assert await service.community_settings("discord:guild:2") == {}


async def test_concurrent_changes_all_land(service: HordeService) -> None:
    scope = "discord:guild:9"
    await asyncio.gather(*[service.update_community_settings(scope, {f"k{i}": i}, "admin") for i in range(20)])
    service.events.publish("settings_changed", {"scope": scope})  # what another node's change does here
    assert await service.community_settings(scope) == {f"k{i}": i for i in range(20)}
    assert len(await service.community_settings_history(scope, limit=100)) == 20
