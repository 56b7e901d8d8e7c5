"""Deliveries the bot owes: written with the request, claimed under a lease, taken over only after a crash,
kept (with their images) until handed over. On SQLite and PostgreSQL, on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from horde_core.clock import FakeClock
from horde_core.db import Database
from horde_core.service import DeliverySpec, HordeError, HordeService
from tests.helpers import image_request, pop_spec, submit_spec

LEASE = 60.0


def spec(holder: str = "bot-a", **kwargs: object) -> DeliverySpec:
    values: dict[str, object] = {"feature": "generate", "holder": holder, "lease": LEASE, "community": "g:1",
                                 "channel": "10", "recipient": "20", "application": "30", "token": "secret-token",
                                 "message": "40", "context": {"footer": "Requested by ann"}}
    values.update(kwargs)
    return DeliverySpec(**values)  # type: ignore[arg-type]


async def _accepted(service: HordeService, make_user, clock: FakeClock, **kwargs: object):  # type: ignore[no-untyped-def]
    user, _ = await make_user("ann", kudos=100)
    accepted = await service.request_images(user, image_request(), deliver=spec(
        token_expires=clock.now() + 900, **kwargs))
    return user, accepted.id


async def test_the_delivery_is_written_with_the_request_and_never_without_it(
        service: HordeService, make_user, clock: FakeClock) -> None:
    user, rid = await _accepted(service, make_user, clock)
    assert await service.claimable_deliveries() == []  # its holder follows it
    clock.advance(LEASE + 1)
    [owed] = await service.claimable_deliveries()
    assert (owed.request_id, owed.kind, owed.feature, owed.user_id) == (rid, "image", "generate", user.id)
    assert (owed.channel, owed.recipient, owed.message, owed.context) == ("10", "20", "40",
                                                                           {"footer": "Requested by ann"})
    poor, _ = await make_user("poor", kudos=0)
    with pytest.raises(HordeError) as refused:
        await service.request_images(poor, image_request(params={"n": 4, "steps": 150}), deliver=spec())
    assert refused.value.rc == "KudosUpfront"
    assert len(await service.claimable_deliveries()) == 1  # the refused request left no delivery behind


async def test_a_lease_is_taken_over_only_once_it_runs_out(service: HordeService, make_user,
                                                           clock: FakeClock) -> None:
    await _accepted(service, make_user, clock)
    clock.advance(LEASE + 1)
    [owed] = await service.claimable_deliveries()
    assert await service.claim_delivery(owed.id, "bot-b", LEASE) is not None  # bot-a died: its lease ran out
    assert await service.claim_delivery(owed.id, "bot-c", LEASE) is None
    assert not await service.renew_delivery(owed.id, "bot-a", LEASE)  # the dead process must not post
    assert not await service.finish_delivery(owed.id, "bot-a")
    clock.advance(LEASE / 2)
    assert await service.renew_delivery(owed.id, "bot-b", LEASE)
    clock.advance(LEASE / 2 + 1)
    assert await service.claim_delivery(owed.id, "bot-c", LEASE) is None  # renewed: still bot-b's
    assert await service.release_delivery(owed.id, "bot-b")  # a clean shutdown hands it back at once
    taken = await service.claim_delivery(owed.id, "bot-c", LEASE)
    assert taken is not None and taken.failures == 1  # the crash counts, the clean release does not
    assert await service.release_delivery(owed.id, "bot-c", failed=True)
    taken = await service.claim_delivery(owed.id, "bot-c", LEASE)
    assert taken is not None and taken.failures == 2
    assert await service.finish_delivery(owed.id, "bot-c")
    assert await service.claim_delivery(owed.id, "bot-b", LEASE) is None and not await service.claimable_deliveries()


async def test_the_token_is_wiped_once_it_expired(service: HordeService, make_user, clock: FakeClock) -> None:
    _, rid = await _accepted(service, make_user, clock)
    held = await service.held_delivery(rid, "bot-a")
    assert held is not None and held.token == "secret-token"
    clock.advance(900)
    assert await service.renew_delivery(held.id, "bot-a", LEASE)  # its holder renews past the token's end
    held = await service.held_delivery(rid, "bot-a")
    assert held is not None and held.token == ""
    assert await service.release_delivery(held.id, "bot-a")


async def test_a_claim_wipes_an_expired_token(service: HordeService, make_user, clock: FakeClock) -> None:
    await _accepted(service, make_user, clock)
    clock.advance(LEASE + 1)
    [owed] = await service.claimable_deliveries()
    fresh = await service.claim_delivery(owed.id, "bot-b", LEASE)
    assert fresh is not None and fresh.token == "secret-token"
    clock.advance(900 - LEASE)
    stale = await service.claim_delivery(owed.id, "bot-b", LEASE)
    assert stale is not None and stale.token == ""


async def test_two_processes_claiming_at_once_get_it_once(db_url: str, service: HordeService, make_user,
                                                          clock: FakeClock, config) -> None:  # type: ignore[no-untyped-def]
    other = HordeService(config, Database(db_url), clock=clock)  # a second process on the same database
    try:
        user, _ = await make_user("ann", kudos=1000)
        for _ in range(10):
            await service.request_images(user, image_request(), deliver=spec("gone"))
        clock.advance(LEASE + 1)
        owed = await service.claimable_deliveries()
        assert len(owed) == 10
        won = await asyncio.gather(*[svc.claim_delivery(d.id, name, LEASE) for d in owed
                                     for svc, name in ((service, "bot-a"), (other, "bot-b"))])
        for d in owed:
            winners = [w for w in won if w is not None and w.id == d.id]
            assert len(winners) == 1, d.id
    finally:
        await other.db.dispose()


async def test_stranded_results_are_listed_for_their_member_and_keep_their_images(
        service: HordeService, make_user, clock: FakeClock) -> None:
    user, rid = await _accepted(service, make_user, clock)
    owner, _ = await make_user("gpu")
    popped = await service.pop_image(owner, pop_spec("w1"))
    await service.submit_image(owner, submit_spec(popped.ids[0]))
    clock.advance(LEASE + 1)
    [owed] = await service.claimable_deliveries()
    assert await service.claim_delivery(owed.id, "bot-b", LEASE)
    assert await service.strand_delivery(owed.id, "bot-b", "channel gone; DMs closed")
    assert await service.claimable_deliveries() == []  # nobody tries to post it again
    [kept] = await service.undelivered(user.id)
    assert kept.note == "channel gone; DMs closed" and kept.token == "" and kept.state == "stranded"
    someone, _ = await make_user("someone")
    assert await service.undelivered(someone.id) == []
    assert await service.claim_undelivered(kept.id, someone.id, "bot-b", LEASE) is None

    clock.advance(service.config.core.image_retention + 1)
    assert (await service.sweep())["pruned"] == 0  # still owed to its member: the image stays
    assert (await service.status(rid)).generations[0].img

    fetched = await service.claim_undelivered(kept.id, user.id, "bot-b", LEASE)
    assert fetched is not None and await service.finish_delivery(fetched.id, "bot-b")
    assert await service.undelivered(user.id) == []
    assert (await service.sweep())["pruned"] == 1  # handed over: pruned as any other


async def test_stranded_results_are_kept_only_so_long(service: HordeService, make_user, clock: FakeClock) -> None:
    user, _ = await _accepted(service, make_user, clock)
    clock.advance(LEASE + 1)
    [owed] = await service.claimable_deliveries()
    await service.claim_delivery(owed.id, "bot-b", LEASE)
    await service.strand_delivery(owed.id, "bot-b", "nowhere to post")
    clock.advance(service.config.core.undelivered_retention_days * 86400 - (LEASE + 1) - 10)  # days after asking
    assert (await service.sweep())["undelivered_pruned"] == 0
    clock.advance(20)
    assert (await service.sweep())["undelivered_pruned"] == 1 and await service.undelivered(user.id) == []
