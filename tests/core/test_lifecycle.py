"""Job and request lifecycle on a fake clock: TTL aborts, faults, expiry, pruning, cancel, uptime."""

from __future__ import annotations

import pytest

from horde_core.clock import FakeClock
from horde_core.service import HordeService, RequestNotFound
from horde_core.service.errors import BadRequest
from tests.helpers import assert_books_balance, balance, image_request, pop_spec, submit_spec


async def _setup(service: HordeService, make_user, n: int = 1, kudos: int = 100):  # type: ignore[no-untyped-def]
    requester, _ = await make_user("req", kudos=kudos)
    owner, _ = await make_user("gpu")
    accepted = await service.request_images(requester, image_request(params={"n": n, "steps": 50}))
    return requester, owner, accepted.id


async def test_job_not_submitted_in_time_is_requeued(service: HordeService, make_user, clock: FakeClock) -> None:
    requester, owner, rid = await _setup(service, make_user)
    first = await service.pop_image(owner, pop_spec("w1"))
    assert first.ids
    clock.advance(service.config.core.image_job_ttl + 1)
    assert (await service.sweep())["aborted"] == 1
    progress = await service.check(rid)
    assert progress.restarted == 1 and progress.waiting == 1 and progress.processing == 0
    with pytest.raises(BadRequest) as late:
        await service.submit_image(owner, submit_spec(first.ids[0]))
    assert late.value.rc == "AbortedGen"
    again = await service.pop_image(owner, pop_spec("w2"))
    assert len(again.ids) == 1 and again.ids != first.ids  # retried under a new id (see test_retry_ids)
    assert await service.submit_image(owner, submit_spec(again.ids[0])) == 10
    assert (await service.check(rid)).done
    await assert_books_balance(service)


async def test_request_faulted_after_repeated_failures_is_refunded(service: HordeService, make_user,
                                                                   clock: FakeClock) -> None:
    requester, owner, rid = await _setup(service, make_user, n=2)
    assert await balance(service, requester) == 100 - 26
    for attempt in range(3):
        popped = await service.pop_image(owner, pop_spec("w1"))
        assert popped.ids, attempt
        await service.submit_image(owner, submit_spec(popped.ids[0], state="faulted"))
    progress = await service.check(rid)
    assert progress.faulted and progress.done
    assert await balance(service, requester) == 100  # nothing was delivered, everything refunded
    await assert_books_balance(service)


async def test_requests_expire_and_answer_not_found(service: HordeService, make_user, clock: FakeClock) -> None:
    requester, owner, rid = await _setup(service, make_user, n=1)
    clock.advance(service.config.core.request_expiry - 10)
    assert (await service.sweep())["expired"] == 0
    clock.advance(20)
    assert (await service.sweep())["expired"] == 1
    with pytest.raises(RequestNotFound):
        await service.check(rid)
    assert await balance(service, requester) == 100
    await assert_books_balance(service)


async def test_a_recent_pop_keeps_a_request_alive(service: HordeService, make_user, clock: FakeClock) -> None:
    requester, owner, rid = await _setup(service, make_user, n=2)
    clock.advance(service.config.core.request_expiry - 60)
    popped = await service.pop_image(owner, pop_spec("w1"))
    await service.submit_image(owner, submit_spec(popped.ids[0]))
    clock.advance(120)  # past creation + expiry, but the last pop was 2 minutes ago
    assert (await service.sweep())["expired"] == 0
    assert (await service.check(rid)).finished == 1


async def test_images_are_pruned_after_retention(service: HordeService, make_user, clock: FakeClock) -> None:
    requester, owner, rid = await _setup(service, make_user)
    popped = await service.pop_image(owner, pop_spec("w1"))
    await service.submit_image(owner, submit_spec(popped.ids[0]))
    status = await service.status(rid)
    assert status.generations and status.generations[0].img
    assert await service.store.exists(f"img/{popped.ids[0]}.webp")
    clock.advance(service.config.core.image_retention + 1)
    assert (await service.sweep())["pruned"] == 1
    assert not await service.store.exists(f"img/{popped.ids[0]}.webp")
    with pytest.raises(RequestNotFound):
        await service.status(rid)


async def test_cancel_refunds_waiting_and_still_settles_jobs_in_flight(service: HordeService, make_user) -> None:
    requester, owner, rid = await _setup(service, make_user, n=3)
    popped = await service.pop_image(owner, pop_spec("w1"))
    status = await service.cancel(rid)
    assert status.progress.processing == 1 and status.progress.waiting == 0
    assert await balance(service, requester) == 100 - 13  # two waiting jobs refunded
    assert not (await service.pop_image(owner, pop_spec("w1"))).ids
    assert await service.submit_image(owner, submit_spec(popped.ids[0])) == 10
    assert (await service.check(rid)).done
    assert await balance(service, requester) == 100 - 13
    assert await balance(service, owner) == 10
    await assert_books_balance(service)


async def test_censored_jobs_cost_the_requester_nothing(service: HordeService, make_user) -> None:
    requester, owner, rid = await _setup(service, make_user, n=2)
    popped = await service.pop_image(owner, pop_spec("w1", amount=2))
    assert len(popped.ids) == 2
    await service.submit_image(owner, submit_spec(popped.ids[0], state="censored"))
    csam = submit_spec(popped.ids[1], gen_metadata=[{"type": "censorship", "value": "csam"}])
    assert await service.submit_image(owner, csam) == 0
    status = await service.status(rid)
    assert [g.censored for g in status.generations] == [True, True]
    assert {g.state for g in status.generations} == {"censored"}
    assert await balance(service, requester) == 100
    assert await balance(service, owner) == 10  # paid for the nsfw-censored work, not for csam
    await assert_books_balance(service)


async def test_online_workers_earn_uptime_once_per_period(service: HordeService, make_user,
                                                          clock: FakeClock) -> None:
    requester, owner, _ = await _setup(service, make_user)  # uptime goes only to workers that serve
    job = await service.pop_image(owner, pop_spec("w1"))
    await service.submit_image(owner, submit_spec(job.ids[0]))
    served = await balance(service, owner)
    clock.advance(200)
    await service.pop_image(owner, pop_spec("w1"))
    assert (await service.sweep())["uptime"] == 0  # not a whole period yet
    clock.advance(200)
    service.config.core.checkin_write_interval = 0
    await service.pop_image(owner, pop_spec("w1"))
    clock.advance(250)
    await service.pop_image(owner, pop_spec("w1"))
    assert (await service.sweep())["uptime"] == 1
    assert (await service.sweep())["uptime"] == 0  # a second sweep pays nothing twice
    assert await balance(service, owner) == served + 9  # 650 s online at 50 kudos/hour, paid in whole kudos
    clock.advance(3 * 3600)  # offline for hours, then back: the gap earns nothing
    await service.pop_image(owner, pop_spec("w1"))
    await service.sweep()
    clock.advance(100)
    await service.sweep()
    assert await balance(service, owner) == served + 9
    await assert_books_balance(service)
