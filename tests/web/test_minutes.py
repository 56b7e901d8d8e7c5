"""Minute counters: counted from the jobs table by the sweep, idempotent, the same from every node, and kept
across restarts (a new service on the same database draws the same chart)."""

from __future__ import annotations

from horde_core.clock import FakeClock
from horde_core.db import Database
from horde_core.service import HordeService
from tests.helpers import image_request, pop_spec, submit_spec


async def _finish(service: HordeService, owner, requester, n: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(n):
        await service.request_images(requester, image_request())
        job = await service.pop_image(owner, pop_spec("gpu"))
        await service.submit_image(owner, submit_spec(job.ids[0], seed="1"))


async def test_finished_jobs_per_minute_and_queue_depth(service: HordeService, clock: FakeClock, db_url: str,
                                                        make_user) -> None:  # type: ignore[no-untyped-def]
    clock._now = 1_800_000_000.0 - 1_800_000_000.0 % 60  # the start of a minute
    owner, _ = await make_user("owner")
    requester, _ = await make_user("req", kudos=1000)
    await _finish(service, owner, requester, 3)
    await service.request_images(requester, image_request(params={"n": 2}))
    await service.sweep()
    clock.advance(60)
    await _finish(service, owner, requester, 1)
    await service.sweep()
    await service.sweep()  # recounting the same minutes changes nothing
    series = (await service.minute_series(1))["image"]
    assert series.finished[-2:] == [3, 1]
    assert series.queued[-2:] == [2, 2]  # the sampled queue
    assert series.workers[-1] == 1

    other = HordeService(service.config, Database(db_url), clock=clock)  # a second node, or a restart
    await other.sweep()
    again = (await other.minute_series(1))["image"]
    assert again.finished[-2:] == [3, 1] and again.queued[-2:] == [2, 2]
    await other.db.dispose()


async def test_aborted_jobs_are_added_once(service: HordeService, clock: FakeClock,
                                           make_user) -> None:  # type: ignore[no-untyped-def]
    owner, _ = await make_user("owner")
    requester, _ = await make_user("req", kudos=1000)
    await service.request_images(requester, image_request())
    await service.pop_image(owner, pop_spec("gpu"))
    clock.advance(service.config.core.image_job_ttl + 1)
    await service.sweep()
    await service.sweep()
    from horde_core.queue import minutes

    async with service.db.read() as conn:
        rows = await minutes.series(conn, 0, 10**12)
    assert sum(r.aborted for r in rows if r.kind == "image") == 1
    assert service.tally.jobs[("aborted", "image")] == 1
