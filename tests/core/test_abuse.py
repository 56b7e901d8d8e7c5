"""Abuse tracked per member and per community on a fake clock: one guild's abuse never blocks another."""

from __future__ import annotations

import pytest

from horde_core.clock import FakeClock
from horde_core.service import Forbidden, HordeService, TooMany
from tests.helpers import image_request, pop_spec, submit_spec


def member_request(guild: int, member: int):  # type: ignore[no-untyped-def]
    return image_request(proxied_account=f"discord:{guild}:{member}")


async def test_csam_verdict_times_the_member_out_with_escalation(service: HordeService, make_user,
                                                                  clock: FakeClock) -> None:
    member, _ = await make_user("member", kudos=500)
    owner, _ = await make_user("gpu")
    await service.request_images(member, member_request(1, 11))
    popped = await service.pop_image(owner, pop_spec("w"))
    await service.submit_image(owner, submit_spec(popped.ids[0], state="csam"))
    with pytest.raises(Forbidden) as refused:
        await service.request_images(member, member_request(1, 11))
    assert refused.value.rc == "UserTimeout" and "3 more minute" in refused.value.message
    await service.request_images(member, member_request(1, 12))  # another member of the guild is fine
    clock.advance(181)
    await service.request_images(member, member_request(1, 11))
    who = service.subject(member.id, False, "discord:1:11", "")
    await service.record_strike(who, "blocked_prompt", prompt="...")
    clock.advance(8 * 60)
    with pytest.raises(Forbidden):  # second strike: 9 minutes
        await service.request_images(member, member_request(1, 11))
    clock.advance(61)
    await service.request_images(member, member_request(1, 11))
    log = await service.community_strikes("discord:1")
    assert [s["reason"] for s in log] == ["blocked_prompt", "csam"]


async def test_a_guild_of_bad_actors_is_throttled_then_suspended_alone(service: HordeService, make_user,
                                                                        clock: FakeClock) -> None:
    user, _ = await make_user("members", kudos=10_000, concurrency=500)
    heard: list[dict] = []  # type: ignore[type-arg]
    service.events.subscribe("community_sanction", heard.append)
    for member in range(5):
        await service.record_strike(service.subject(user.id, False, f"discord:666:{member}", ""), "blocked_prompt")
    assert heard == [{"community": "discord:666", "state": "throttled"}]
    clock.advance(200)  # past the members' own timeouts
    await service.request_images(user, member_request(666, 99))
    with pytest.raises(TooMany) as throttled:
        await service.request_images(user, member_request(666, 99))
    assert throttled.value.rc == "CommunityThrottled"
    for member in range(5, 10):
        await service.record_strike(service.subject(user.id, False, f"discord:666:{member}", ""), "blocked_prompt")
    assert heard[-1] == {"community": "discord:666", "state": "suspended"}
    clock.advance(600)
    with pytest.raises(Forbidden) as suspended:
        await service.request_images(user, member_request(666, 99))
    assert suspended.value.rc == "CommunitySuspended"
    for _ in range(3):  # every other guild keeps generating, as fast as it likes
        await service.request_images(user, member_request(777, 1))
    await service.request_images(user, image_request())  # and so does the key itself
    clock.advance(service.config.safety.community_suspension + 1)
    await service.request_images(user, member_request(666, 99))


async def test_api_clients_are_timed_out_by_key_and_anonymous_ones_by_ip(service: HordeService, make_user,
                                                                         clock: FakeClock) -> None:
    bad, _ = await make_user("bad", kudos=100)
    good, _ = await make_user("good", kudos=100)
    anonymous = await service.authenticate(None)
    await service.record_strike(service.subject(bad.id, False, None, "10.0.0.1"), "blocked_prompt")
    with pytest.raises(Forbidden) as by_key:
        await service.request_images(bad, image_request(), ipaddr="10.0.0.9")
    assert by_key.value.rc == "UserTimeout"
    with pytest.raises(Forbidden) as by_ip:  # the same address, even with another key
        await service.request_images(good, image_request(), ipaddr="10.0.0.1")
    assert by_ip.value.rc == "TimeoutIP"
    await service.request_images(good, image_request(), ipaddr="10.0.0.2")
    await service.record_strike(service.subject(0, True, None, "10.0.0.3"), "blocked_prompt")
    with pytest.raises(Forbidden):
        await service.request_images(anonymous, image_request(), ipaddr="10.0.0.3")
    await service.request_images(anonymous, image_request(), ipaddr="10.0.0.4")


async def test_operator_suspends_and_lifts_and_strikes_expire(service: HordeService, make_user,
                                                               clock: FakeClock) -> None:
    user, _ = await make_user("members", kudos=1000)
    await service.set_community_sanction("discord:5", "suspended", 3600, "owner")
    with pytest.raises(Forbidden):
        await service.request_images(user, member_request(5, 1))
    assert [p["key"] for p in await service.penalties()] == ["community:discord:5"]
    await service.set_community_sanction("discord:5", None, 0, "owner")
    await service.request_images(user, member_request(5, 1))
    await service.record_strike(service.subject(user.id, False, "discord:5:1", ""), "blocked_prompt")
    assert len(await service.community_strikes("discord:5")) == 1
    assert await service.clear_community_strikes("discord:5") == 1
    assert await service.community_strikes("discord:5") == []
    await service.record_strike(service.subject(user.id, False, "discord:5:2", ""), "blocked_prompt")
    clock.advance(service.config.safety.strike_ttl + 1)
    assert await service.community_strikes("discord:5") == []
    await service.request_images(user, member_request(5, 2))


async def test_the_moderation_log_is_kept_for_its_retention(service: HordeService, make_user, clock: FakeClock) -> None:
    user, _ = await make_user("u")
    await service.record_strike(service.subject(user.id, False, "discord:3:4", ""), "blocked_prompt",
                                prompt="the prompt", verdict={"groups": ["underage", "sexual"]})
    assert (await service.sweep())["audit_pruned"] == 0
    clock.advance(service.config.safety.audit_retention_days * 86400 + 1)
    assert (await service.sweep())["audit_pruned"] == 1
