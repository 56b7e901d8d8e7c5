"""Issue 16 across two nodes on one PostgreSQL: a pause, a rename and a shared key's new caps hold on the other
node at once (the claim reads the worker's row; the events drop the caches)."""

from __future__ import annotations

import pytest

from horde_core.service import HordeError, HordeService
from horde_core.service.schemas import WorkerModifySpec
from horde_core.service.sharing_specs import SharedKeyModifySpec, SharedKeySpec
from tests.core.test_shared_parts import Heard, backend, nodes  # noqa: F401  (the two-node fixtures)
from tests.helpers import image_request, pop_spec


async def test_a_pause_on_one_node_holds_on_the_other_at_once(nodes: list[HordeService], make_user) -> None:  # noqa: F811
    a, b = nodes
    owner, _ = await make_user("gpu")
    requester, _ = await make_user("req", kudos=1000)
    assert (await b.pop_image(owner, pop_spec("W"))).ids == []  # B knows the worker now
    worker = await b.get_worker(name="W")
    await a.modify_worker(owner, worker.id, WorkerModifySpec(paused=True), operator=True)
    await a.request_images(requester, image_request())
    assert (await b.pop_image(owner, pop_spec("W"))).ids == []  # before any event: the claim reads the row
    changed = Heard(b.events, "worker_changed")
    await a.modify_worker(owner, worker.id, WorkerModifySpec(paused=False), operator=True)
    await changed.next()
    assert len((await b.pop_image(owner, pop_spec("W"))).ids) == 1


async def test_a_rename_on_one_node_is_seen_by_the_other(nodes: list[HordeService], make_user) -> None:  # noqa: F811
    a, b = nodes
    owner, _ = await make_user("gpu")
    await b.pop_image(owner, pop_spec("Old Name"))
    worker = await b.get_worker(name="Old Name")
    changed = Heard(b.events, "worker_changed")
    await a.modify_worker(owner, worker.id, WorkerModifySpec(name="New Name"))
    await changed.next()
    assert b.workers.get("Old Name") is None  # B's registry forgot it
    await b.pop_image(owner, pop_spec("New Name"))
    assert (await b.get_worker(name="New Name")).id == worker.id  # the same worker, not a new one


async def test_new_caps_of_a_shared_key_hold_on_the_other_node(nodes: list[HordeService], make_user) -> None:  # noqa: F811
    a, b = nodes
    owner, _ = await make_user("lender", kudos=1000)
    created = await a.create_shared_key(owner, SharedKeySpec(kudos=-1))
    holder = await b.authenticate(created.id, allow_shared=True)  # cached on B with its grant
    await b.request_images(holder, image_request(params={"steps": 20}))
    changed = Heard(b.events, "user_changed")
    await a.modify_shared_key(owner, created.id, SharedKeyModifySpec(max_image_steps=10))
    await changed.next()
    holder = await b.authenticate(created.id, allow_shared=True)
    with pytest.raises(HordeError) as refused:
        await b.request_images(holder, image_request(params={"steps": 20}))
    assert refused.value.status == 400 and "10 steps" in refused.value.message
