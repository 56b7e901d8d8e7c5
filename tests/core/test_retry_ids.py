"""A job given to another worker after a timeout or a fault comes back under a new id (AI Horde starts a new
processing generation): reGen counts faults per id, and the old holder's late submit answers AbortedGen."""

from __future__ import annotations

import pytest

from horde_core.clock import FakeClock
from horde_core.queue import lifecycle
from horde_core.service import HordeService
from horde_core.service.errors import BadRequest
from tests.helpers import assert_books_balance, balance, image_request, pop_spec, submit_spec


async def test_a_timed_out_job_is_popped_again_under_a_new_id(service: HordeService, make_user,
                                                              clock: FakeClock) -> None:
    requester, _ = await make_user("req", kudos=100)
    owner_a, _ = await make_user("gpu-a")
    owner_b, _ = await make_user("gpu-b")
    accepted = await service.request_images(requester, image_request(params={"n": 2, "steps": 50}))
    paid = 100 - await balance(service, requester)
    first = await service.pop_image(owner_a, pop_spec("A", amount=2))
    assert len(first.ids) == 2
    clock.advance(service.config.core.image_job_ttl + 1)
    assert (await service.sweep())["aborted"] == 2
    again = await service.pop_image(owner_b, pop_spec("B", amount=2))
    assert len(again.ids) == 2 and not set(again.ids) & set(first.ids)
    async with service.db.read() as conn:
        jobs = await lifecycle.jobs_of(conn, accepted.id)
    seeds = {j.id: (j.seed, j.reward) for j in jobs}
    assert {seeds[i] for i in again.ids} == {seeds[i] for i in first.ids}  # the same work and price, a new claim
    for old in first.ids:  # worker A finishes late: its ids were aborted
        with pytest.raises(BadRequest) as late:
            await service.submit_image(owner_a, submit_spec(old))
        assert late.value.rc == "AbortedGen"
        with pytest.raises(BadRequest) as late_fault:
            await service.submit_image(owner_a, submit_spec(old, state="faulted"))
        assert late_fault.value.rc == "AbortedGen"
    rewards = [await service.submit_image(owner_b, submit_spec(jid)) for jid in again.ids]
    status = await service.status(accepted.id)
    assert status.progress.done and status.progress.finished == 2 and status.progress.restarted == 2
    assert sorted(g.id for g in status.generations) == sorted(again.ids)
    assert 100 - await balance(service, requester) == paid  # charged once, for two images
    assert await balance(service, owner_a) < await balance(service, owner_b)
    assert sum(rewards) > 0
    await assert_books_balance(service)


async def test_a_faulted_job_is_retried_under_a_new_id_and_counts_once(service: HordeService, make_user) -> None:
    requester, _ = await make_user("req", kudos=100)
    owner, _ = await make_user("gpu")
    accepted = await service.request_images(requester, image_request(params={"n": 1, "steps": 50}))
    seen: list[str] = []
    for _ in range(2):
        popped = await service.pop_image(owner, pop_spec("W"))
        assert len(popped.ids) == 1
        seen.append(popped.ids[0])
        await service.submit_image(owner, submit_spec(popped.ids[0], state="faulted"))
    last = await service.pop_image(owner, pop_spec("W"))
    seen.append(last.ids[0])
    assert len(set(seen)) == 3  # every claim had its own id
    assert await service.submit_image(owner, submit_spec(last.ids[0])) > 0
    with pytest.raises(BadRequest) as dup:
        await service.submit_image(owner, submit_spec(last.ids[0]))
    assert dup.value.rc == "DuplicateGen"
    progress = await service.check(accepted.id)
    assert progress.done and progress.finished == 1 and progress.restarted == 2 and not progress.faulted
    assert await service.jobs_since(requester.id, "image", 0.0) == 1  # daily limits count the image once
    await assert_books_balance(service)


async def test_a_job_that_times_out_after_its_request_was_cancelled_is_refunded(service: HordeService, make_user,
                                                                                clock: FakeClock) -> None:
    requester, _ = await make_user("req", kudos=100)
    owner, _ = await make_user("gpu")
    accepted = await service.request_images(requester, image_request(params={"n": 2, "steps": 50}))
    first = await service.pop_image(owner, pop_spec("A"))  # one of two in flight
    assert len(first.ids) == 1
    await service.cancel(accepted.id)  # refunds the waiting one; the one in flight would still be paid
    clock.advance(service.config.core.image_job_ttl + 1)
    assert (await service.sweep())["aborted"] == 1
    assert (await service.pop_image(owner, pop_spec("B"))).ids == []  # its retry is not served
    progress = await service.check(accepted.id)
    assert progress.done and progress.waiting == 0 and progress.processing == 0
    assert await balance(service, requester) == 100  # nothing was delivered: everything refunded
    await assert_books_balance(service)
