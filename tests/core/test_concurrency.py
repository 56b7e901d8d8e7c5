"""Races that must never be lost, on SQLite and PostgreSQL: pops, transfers, the ledger."""

from __future__ import annotations

import asyncio
import random

from horde_core.service import BadRequest, HordeService
from tests.helpers import assert_books_balance, balance, image_request, pop_spec, submit_spec


async def test_concurrent_pops_never_hand_out_a_job_twice(service: HordeService, make_user) -> None:
    requester, _ = await make_user("req", kudos=10_000, concurrency=500)
    owner, _ = await make_user("gpu")
    for _ in range(30):
        await service.request_images(requester, image_request(params={"n": 2}))
    # 100 pops at once, from 20 workers (some asking for several jobs each)
    for i in range(20):
        await service.pop_image(owner, pop_spec(f"w{i}", amount=1, models=[]))  # register; claims 20 jobs
    results = await asyncio.gather(*[service.pop_image(owner, pop_spec(f"w{i % 20}", amount=1 + i % 3))
                                     for i in range(100)])
    handed = [job for r in results for job in r.ids]
    assert len(handed) == len(set(handed))
    assert len(handed) == 60 - 20  # every remaining job went out exactly once


async def test_concurrent_transfers_never_overdraw(service: HordeService, make_user) -> None:
    sender, _ = await make_user("rich", kudos=100)
    recipients = [await make_user(f"r{i}") for i in range(5)]

    async def send(i: int) -> bool:
        try:
            await service.transfer_kudos(sender, f"r{i % 5}#{recipients[i % 5][0].id}", 1)
        except BadRequest:
            return False
        return True

    outcomes = await asyncio.gather(*[send(i) for i in range(200)])
    assert sum(outcomes) == 100
    assert await balance(service, sender) == 0
    assert sum([await balance(service, r) for r, _ in recipients]) == 100
    await assert_books_balance(service)


async def test_ledger_invariant_after_random_operations(service: HordeService, make_user) -> None:
    rng = random.Random(3)
    users = [await make_user(f"u{i}", kudos=rng.randint(0, 200)) for i in range(4)]
    owner, _ = await make_user("gpu")
    rids = []
    for step in range(60):
        user = rng.choice(users)[0]
        action = rng.choice(["request", "pop_submit", "fault", "cancel", "transfer", "grant"])
        try:
            if action == "request":
                accepted = await service.request_images(user, image_request(params={"n": rng.randint(1, 3)}))
                rids.append(accepted.id)
            elif action in ("pop_submit", "fault"):
                popped = await service.pop_image(owner, pop_spec("w", amount=rng.randint(1, 2)))
                for jid in popped.ids:
                    state = "faulted" if action == "fault" else rng.choice(["ok", "ok", "censored"])
                    await service.submit_image(owner, submit_spec(jid, state=state))
            elif action == "cancel" and rids:
                await service.cancel(rng.choice(rids))
            elif action == "transfer":
                other = rng.choice(users)[0]
                await service.transfer_kudos(user, str(other.id), rng.randint(1, 50))
            elif action == "grant":
                await service.grant_kudos(str(user.id), rng.randint(-20, 50))
        except Exception as exc:  # refused operations are fine; they must just not break the books
            assert getattr(exc, "rc", None), (step, action, exc)
        await assert_books_balance(service)
