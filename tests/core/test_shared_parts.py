"""The node's parts shared across nodes: two services on one PostgreSQL database, as two nodes would be.

Events cross over LISTEN/NOTIFY (each node hears the other's, and its own once); rate buckets hold across nodes;
a key changed, a worker put in maintenance, settings changed or a job queued on one node are seen on the other
at once instead of after its caches' TTL; only one node sweeps at a time. (tests/multinode runs the same as
separate processes.) Waiting for an event uses the event itself, with a deadline, never a sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from horde_core.clock import FakeClock
from horde_core.config import AppConfig
from horde_core.db import Database
from horde_core.events import RESYNC
from horde_core.parts import LocalRateLimiter, PgRateLimiter, shared_parts
from horde_core.parts.pg_bus import PgEventBus, asyncpg_dsn
from horde_core.service import HordeService, InvalidAPIKey
from horde_core.service.schemas import WorkerModifySpec
from tests.conftest import PG_AVAILABLE, PG_REQUIRED
from tests.helpers import image_request, pop_spec

DEADLINE = 5.0


@pytest.fixture
def backend() -> str:
    if not PG_AVAILABLE:
        if PG_REQUIRED:
            pytest.fail("PostgreSQL is required (HORDEBOT_TEST_POSTGRES=required) but does not answer")
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    return "postgres"


class Heard:
    """Events of one name as a node's bus delivers them; `next()` waits for the next one."""

    def __init__(self, bus: Any, name: str) -> None:
        self.items: list[dict[str, Any]] = []
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        bus.subscribe(name, self._on)

    def _on(self, payload: dict[str, Any]) -> None:
        self.items.append(payload)
        self._queue.put_nowait(payload)

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self._queue.get(), timeout=DEADLINE)


@pytest.fixture
async def nodes(db_url: str, config: AppConfig, clock: FakeClock) -> AsyncIterator[list[HordeService]]:
    """Node A and node B: each its own engine, parts and bus; one database."""
    first = Database(db_url)
    await first.migrate()
    out = []
    for _ in range(2):
        db = first if not out else Database(db_url)
        parts = shared_parts(db, clock)
        await parts.start()
        svc = HordeService(config, db, clock=clock, parts=parts)
        await svc.bootstrap()
        out.append(svc)
    try:
        yield out
    finally:
        for svc in out:
            await svc.parts.close()
            await svc.db.dispose()


async def test_events_reach_every_node_once(nodes: list[HordeService]) -> None:
    a, b = nodes
    on_a, on_b = Heard(a.events, "job_finished"), Heard(b.events, "job_finished")
    a.events.publish("job_finished", {"request_id": "first", "job_id": "j1"})
    assert on_a.items == [{"request_id": "first", "job_id": "j1"}]  # this node: at once, synchronously
    assert await on_b.next() == {"request_id": "first", "job_id": "j1"}
    burst_on_a = Heard(a.events, "job_finished")
    for i in range(50):  # many events in a burst travel in few notifications, in order
        b.events.publish("job_finished", {"request_id": f"r{i}"})
    assert [(await burst_on_a.next())["request_id"] for _ in range(50)] == [f"r{i}" for i in range(50)]
    last_on_b = Heard(b.events, "job_finished")
    a.events.publish("job_finished", {"request_id": "last"})
    assert (await last_on_b.next())["request_id"] == "last"
    await a.events.flush()
    await b.events.flush()
    b.events.publish("job_finished", {"request_id": "fence"})  # after it arrives, nothing else is in flight
    fence_on_a = Heard(a.events, "job_finished")
    assert (await fence_on_a.next())["request_id"] == "fence"
    seen_on_a = [p["request_id"] for p in on_a.items]
    assert seen_on_a == ["first", *[f"r{i}" for i in range(50)], "last", "fence"]  # its own events only once
    assert [p["request_id"] for p in last_on_b.items] == ["last", "fence"]


async def test_a_lost_listener_reconnects_and_the_caches_resync(nodes: list[HordeService], db_url: str) -> None:
    a, b = nodes
    bus = b.events
    assert isinstance(bus, PgEventBus)
    resync, finished = Heard(bus, RESYNC), Heard(bus, "job_finished")
    b.auth_cache.put("digest", await b.authenticate(None))
    admin = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", bus._listener.get_server_pid())
    finally:
        await admin.close()
    await resync.next()
    assert b.auth_cache.get("digest") is None  # events may have been missed: forget what was cached
    a.events.publish("job_finished", {"request_id": "after"})
    assert (await finished.next())["request_id"] == "after"


@pytest.mark.parametrize("kind", ["local", "shared"])
async def test_rate_limits_hold_across_nodes(nodes: list[HordeService], clock: FakeClock, kind: str) -> None:
    a, b = nodes
    if kind == "local":  # the single-node limiter: the same answers for one node
        one = LocalRateLimiter(clock)
        limiters = [one, one]
    else:
        limiters = [PgRateLimiter(a.db, clock), PgRateLimiter(b.db, clock)]
    first, second = limiters
    passed = [not await (first if i % 2 else second).limited("key", 1.0, 3) for i in range(6)]
    assert passed == [True, True, True, False, False, False]  # a burst of 3, over both nodes
    assert not await first.limited("other", 1.0, 3)
    clock.advance(2.0)
    assert [not await second.limited("key", 1.0, 3) for _ in range(3)] == [True, True, False]
    assert not await first.limited_every("gate", 60.0) and await second.limited_every("gate", 60.0)
    clock.advance(61)
    assert not await second.limited_every("gate", 60.0)
    clock.advance(4000)
    await first.prune()
    assert [not await second.limited("key", 1.0, 3) for _ in range(4)] == [True, True, True, False]


async def test_a_key_replaced_on_one_node_stops_working_on_the_other(nodes: list[HordeService]) -> None:
    a, b = nodes
    user, key = await a.create_user("alice")
    assert (await b.authenticate(key)).id == user.id  # cached on B now (for 10 s without the event)
    changed = Heard(b.events, "user_changed")
    new_key = await a.regenerate_key(user.id)
    await changed.next()
    with pytest.raises(InvalidAPIKey):
        await b.authenticate(key)
    assert (await b.authenticate(new_key)).id == user.id


async def test_maintenance_set_on_one_node_holds_on_the_other_at_once(nodes: list[HordeService],
                                                                       make_user) -> None:
    a, b = nodes
    owner, _ = await make_user("gpu")
    requester, _ = await make_user("req", kudos=1000)
    assert (await b.pop_image(owner, pop_spec("W"))).ids == []  # B knows the worker now
    worker = await b.get_worker(name="W")
    await a.modify_worker(owner, worker.id, WorkerModifySpec(maintenance=True))
    await a.request_images(requester, image_request())
    # Before any event can arrive: the claim itself reads the worker's row.
    assert (await b.pop_image(owner, pop_spec("W"))).ids == []
    changed = Heard(b.events, "worker_changed")
    await a.modify_worker(owner, worker.id, WorkerModifySpec(maintenance=False))
    await changed.next()  # back from maintenance: B serves it again once it heard so
    assert len((await b.pop_image(owner, pop_spec("W"))).ids) == 1


async def test_changes_seen_by_the_other_node_without_waiting_out_a_ttl(nodes: list[HordeService], make_user) -> None:
    a, b = nodes
    scope = "discord:guild:5"
    assert await b.community_settings(scope) == {}  # cached on B for 30 s without the event
    settings = Heard(b.events, "settings_changed")
    await a.update_community_settings(scope, {"nsfw": True}, "admin")
    await settings.next()
    assert await b.community_settings(scope) == {"nsfw": True}

    owner, _ = await make_user("gpu")
    requester, _ = await make_user("req", kudos=1000)
    assert (await b.pop_image(owner, pop_spec("W"))).ids == []  # B's hint: nothing waiting (for a second)
    hints = Heard(b.events, "hint")
    await a.request_images(requester, image_request())
    assert (await hints.next())["name"] == "image"
    assert len((await b.pop_image(owner, pop_spec("W"))).ids) == 1


async def test_one_node_sweeps_at_a_time(nodes: list[HordeService]) -> None:
    a, b = nodes
    async with a.db.advisory_lock("sweeps") as mine:
        assert mine
        assert await b.sweep() == {}  # A is sweeping: B skips its pass
    assert "aborted" in await b.sweep()
