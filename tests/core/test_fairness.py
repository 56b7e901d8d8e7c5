"""Fairness per member of a community, enforced where requests are accepted: 20 concurrent requests from
one member never get past the community's in-flight limit or daily quota, and refusals cost nothing."""

from __future__ import annotations

import asyncio

from horde_core.service import HordeError, HordeService
from tests.helpers import assert_books_balance, balance, image_request, pop_spec, submit_spec

GUILD = 5150
SCOPE = f"discord:guild:{GUILD}"
BOOSTER = 777


async def _burst(service: HordeService, member, count: int = 20, n: int = 1) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    spec = image_request("a lighthouse", params={"n": n}, proxied_account=f"discord:{GUILD}:{member.id}")
    results = await asyncio.gather(*(service.request_images(member, spec) for _ in range(count)),
                                   return_exceptions=True)
    accepted = [r.id for r in results if not isinstance(r, BaseException)]
    refused = [r.rc for r in results if isinstance(r, HordeError)]
    assert len(accepted) + len(refused) == count, [r for r in results if isinstance(r, BaseException)]
    return accepted, refused


async def test_at_most_n_requests_in_flight_per_member(service: HordeService, make_user) -> None:
    await service.update_community_settings(SCOPE, {"max_in_flight": 3}, "test")
    member, _ = await make_user("member", kudos=1000)
    other, _ = await make_user("other", kudos=1000)
    accepted, refused = await _burst(service, member)
    assert len(accepted) == 3 and set(refused) == {"TooManyInFlight"}
    assert await balance(service, member) == 1000 - 3 * 9  # refusals cost nothing
    # once one finishes, there is room for exactly one more
    owner, _ = await make_user("gpu")
    popped = await service.pop_image(owner, pop_spec("gpu"))
    await service.submit_image(owner, submit_spec(popped.ids[0]))
    again, refused = await _burst(service, member, count=4)
    assert len(again) == 1 and set(refused) == {"TooManyInFlight"}
    assert len((await _burst(service, other, count=5))[0]) == 3  # every member has their own limit
    # outside the community (an API client, another guild) the limit does not apply
    plain = await asyncio.gather(*(service.request_images(member, image_request("x")) for _ in range(5)))
    assert len(plain) == 5
    await assert_books_balance(service)


async def test_daily_quota_follows_the_members_roles(service: HordeService, make_user) -> None:
    await service.update_community_settings(SCOPE, {"daily_images": 5, "role_quotas": {str(BOOSTER): 8}}, "test")
    member, _ = await make_user("member", kudos=1000)
    booster, _ = await make_user("booster", kudos=1000)
    service.note_member_roles(SCOPE, booster.id, [BOOSTER, 1])
    accepted, refused = await _burst(service, member)
    assert len(accepted) == 5 and set(refused) == {"DailyQuota"}
    assert await balance(service, member) == 1000 - 5 * 9
    accepted, refused = await _burst(service, booster)
    assert len(accepted) == 8 and set(refused) == {"DailyQuota"}
    # a request of several images counts them all, and is refused whole when they do not fit
    late, _ = await make_user("late", kudos=1000)
    first, _ = await _burst(service, late, count=1, n=4)
    assert len(first) == 1
    second, refused = await _burst(service, late, count=1, n=2)
    assert second == [] and refused == ["DailyQuota"]
    # a day later the quota is back
    service.clock.advance(86401)  # type: ignore[attr-defined]
    assert len((await _burst(service, member, count=6))[0]) == 5
    await assert_books_balance(service)
