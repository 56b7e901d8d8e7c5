"""Uptime kudos reward availability that serves the horde, not names that only poll.

Before: one user with 0 kudos ran 40 worker names that only polled (0 jobs) and was minted 320 kudos in
11 minutes. The rule now (README, "Limits"): a worker earns uptime only if it finished a job within
`core.uptime_job_window`, and only the `core.uptime_workers_per_owner` most recently busy workers of an
owner earn it.
"""

from __future__ import annotations

from horde_core.clock import FakeClock
from horde_core.service import HordeService
from tests.helpers import assert_books_balance, balance, image_request, pop_spec, submit_spec


async def _poll_for(service: HordeService, owner, names: list[str], clock: FakeClock,  # type: ignore[no-untyped-def]
                    seconds: int, step: int = 60) -> None:
    """Every worker polls once a `step` (check-ins written each time) for `seconds`, sweeping as it goes."""
    service.config.core.checkin_write_interval = 0
    for _ in range(seconds // step):
        for name in names:
            await service.pop_image(owner, pop_spec(name))
        clock.advance(step)
        await service.sweep()


async def test_idle_names_earn_no_uptime(service: HordeService, make_user, clock: FakeClock) -> None:
    owner, _ = await make_user("farmer")
    service.config.core.max_workers_per_user = 40
    await _poll_for(service, owner, [f"idle {i}" for i in range(40)], clock, 11 * 60)
    assert await balance(service, owner) == 0
    await assert_books_balance(service)


async def test_uptime_goes_to_serving_workers_capped_per_owner(service: HordeService, make_user,
                                                                clock: FakeClock) -> None:
    service.config.core.uptime_workers_per_owner = 2
    requester, _ = await make_user("req", kudos=1000)
    owner, _ = await make_user("gpu")
    names = [f"busy {i}" for i in range(4)]
    served = 0
    for name in names:  # each worker serves one job (10 kudos each)
        await service.request_images(requester, image_request(params={"steps": 50}))
        popped = await service.pop_image(owner, pop_spec(name))
        served += await service.submit_image(owner, submit_spec(popped.ids[0]))
    await _poll_for(service, owner, [*names, "idle one"], clock, 11 * 60)
    uptime = await balance(service, owner) - served
    assert uptime == 2 * 8  # two workers paid for ~10 minutes at 50 kudos/hour; the others nothing
    # A worker whose last job is older than the window stops earning.
    clock.advance(service.config.core.uptime_job_window)
    before = await balance(service, owner)
    await _poll_for(service, owner, names, clock, 11 * 60)
    assert await balance(service, owner) == before
    await assert_books_balance(service)
