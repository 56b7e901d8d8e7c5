"""Matching rules: the pure `skip_reason` and the SQL claim must agree on every case."""

from __future__ import annotations

import random
import uuid
from typing import Any

from horde_core.models import Worker
from horde_core.queue import claim as claims
from horde_core.queue import lifecycle
from horde_core.queue.matching import RequestTraits, WorkerProfile, pack, pick_model, skip_reason
from horde_core.service import HordeService

WORKER_ID = "00000000-0000-4000-8000-000000000001"


def worker(**kw: Any) -> WorkerProfile:
    base: dict[str, Any] = {"id": WORKER_ID, "owner_id": 1, "kind": "image", "models": frozenset({"A"})}
    base.update(kw)
    return WorkerProfile(**base)


def test_skip_reasons() -> None:
    w = worker(models=frozenset({"A", "B"}), max_pixels=512 * 512)
    assert skip_reason(RequestTraits("image"), w) is None
    assert skip_reason(RequestTraits("image", models=("C",)), w) == "models"
    assert skip_reason(RequestTraits("image", models=("C", "B")), w) is None
    assert skip_reason(RequestTraits("image", pixels=1024 * 1024), w) == "max_pixels"
    assert skip_reason(RequestTraits("image", nsfw=True), w) == "nsfw"
    assert skip_reason(RequestTraits("image", nsfw=True), worker(nsfw=True)) is None
    assert skip_reason(RequestTraits("image", trusted_workers=True), w) == "untrusted"
    assert skip_reason(RequestTraits("image", workers=("other",)), w) == "worker_id"
    assert skip_reason(RequestTraits("image", workers=(WORKER_ID,)), w) is None
    assert skip_reason(RequestTraits("image", workers=(WORKER_ID,), worker_blacklist=True), w) == "worker_id"
    assert skip_reason(RequestTraits("image", prompt="A Castle"), worker(blacklist=("castle",))) == "blacklist"
    assert skip_reason(RequestTraits("image", img2img=True), worker(img2img=False)) == "img2img"
    assert skip_reason(RequestTraits("image", painting=True), worker(painting=False)) == "painting"
    assert skip_reason(RequestTraits("image", post_processing=True),
                       worker(post_processing=False)) == "post-processing"
    assert skip_reason(RequestTraits("image", lora=True), worker(lora=False)) == "lora"
    assert skip_reason(RequestTraits("text"), w) == "kind"


def test_pick_model_prefers_the_requested_one() -> None:
    w = worker(models=frozenset({"A", "B"}))
    assert pick_model(RequestTraits("image", models=("C", "B")), w) == "B"
    assert pick_model(RequestTraits("image"), w) == "A"


def _random_case(rng: random.Random) -> tuple[dict[str, Any], WorkerProfile, RequestTraits]:
    models = tuple(rng.sample(["A", "B", "C%", "D_x"], rng.randint(0, 2)))
    listed = rng.choice([(), (WORKER_ID,), ("someone-else",)])
    row = {
        "models": pack(models), "workers": pack(listed), "worker_blacklist": rng.random() < 0.5,
        "pixels": rng.choice([512 * 512, 1024 * 1024]), "nsfw": rng.random() < 0.3,
        "trusted_workers": rng.random() < 0.3, "img2img": rng.random() < 0.3, "painting": rng.random() < 0.2,
        "post_processing": rng.random() < 0.3, "lora": rng.random() < 0.3,
        "prompt": rng.choice(["a castle", "a CAT in 100% wool", "portrait"]),
    }
    prof = worker(
        models=frozenset(rng.sample(["A", "B", "C%", "D_x", "Dxx"], rng.randint(1, 3))),
        max_pixels=rng.choice([512 * 512, 2048 * 2048]), nsfw=rng.random() < 0.5, trusted=rng.random() < 0.5,
        blacklist=tuple(rng.sample(["castle", "cat", "100%"], rng.randint(0, 1))),
        img2img=rng.random() < 0.7, painting=rng.random() < 0.7, post_processing=rng.random() < 0.7,
        lora=rng.random() < 0.5,
    )
    traits = RequestTraits(kind="image", models=models, workers=listed, worker_blacklist=row["worker_blacklist"],
                           pixels=row["pixels"], nsfw=row["nsfw"], trusted_workers=row["trusted_workers"],
                           img2img=row["img2img"], painting=row["painting"],
                           post_processing=row["post_processing"], lora=row["lora"], prompt=row["prompt"])
    return row, prof, traits


async def test_sql_claim_agrees_with_skip_reason(service: HordeService, make_user) -> None:
    user, _ = await make_user()
    async with service.db.transaction() as conn:  # the claim reads the worker's row (maintenance)
        await conn.execute(Worker.__table__.insert().values(id=WORKER_ID, owner_id=user.id, name="w", kind="image",
                                                            created_at=1.0, last_check_in=1.0, uptime_paid_until=1.0))
    rng = random.Random(7)
    agreed = {True: 0, False: 0}
    for _ in range(80):
        row, prof, traits = _random_case(rng)
        rid = str(uuid.uuid4())
        request = {"id": rid, "kind": "image", "user_id": user.id, "state": "active", "created_at": 1.0,
                   "expires_at": 2.0, "rank": 1.0, "n": 1, "job_cost": 1, "job_tax": 0, "escrow": 0,
                   "params": "{}", **row}
        job = {"id": str(uuid.uuid4()), "request_id": rid, "kind": "image", "user_id": user.id,
               "state": "waiting", "rank": 1.0}
        async with service.db.rolled_back() as conn:
            await lifecycle.insert_request(conn, request, [job])
            claimed = await claims.claim(conn, service.db.dialect, prof, 1, 10.0, 60.0)
            skipped = await claims.skipped(conn, prof)
        expected = skip_reason(traits, prof)
        assert bool(claimed) == (expected is None), (row, prof, expected)
        if expected is None:
            assert claimed[0].id == job["id"]
        else:
            assert skipped == {expected: 1}
        agreed[expected is None] += 1
    assert agreed[True] > 5 and agreed[False] > 5  # the sample exercised both outcomes
