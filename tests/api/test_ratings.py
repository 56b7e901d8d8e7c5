"""Owners rate their own results over HTTP: rewarded, once per image, capped per day, never for others."""

from __future__ import annotations

import aiohttp

from horde_core.service import HordeService
from tests.helpers import assert_books_balance, balance, image_request, pop_spec, submit_spec


async def _finished(service: HordeService, make_user, n: int = 2):  # type: ignore[no-untyped-def]
    owner, key = await make_user("owner", kudos=100)
    gpu, _ = await make_user("gpu")
    rid = (await service.request_images(owner, image_request(params={"n": n}))).id
    popped = await service.pop_image(gpu, pop_spec("w", amount=n))
    for job_id in popped.ids:
        await service.submit_image(gpu, submit_spec(job_id))
    return owner, key, rid, popped.ids


async def _rate(http: aiohttp.ClientSession, server, rid: str, key: str, body: dict) -> tuple[int, dict]:  # type: ignore[no-untyped-def,type-arg]
    async with http.post(server.make_url(f"/api/v2/generate/rate/{rid}"), headers={"apikey": key}, json=body) as r:
        return r.status, await r.json()


async def test_owner_rates_their_images_once(service: HordeService, server, make_user) -> None:
    owner, key, rid, (first, second) = await _finished(service, make_user)
    before = await balance(service, owner)
    _, stranger = await make_user("stranger")
    async with aiohttp.ClientSession() as http:
        status, out = await _rate(http, server, rid, stranger, {"ratings": [{"id": first, "rating": 7}]})
        assert (status, out["rc"]) == (403, "NotOwner")
        status, out = await _rate(http, server, rid, key, {"ratings": [{"id": first, "rating": 11}]})
        assert status == 400 and "ratings.0.rating" in out["errors"]
        status, out = await _rate(http, server, rid, key, {"ratings": [{"id": first, "rating": 8, "artifacts": 1}],
                                                           "best": second})
        assert status == 200 and out == {"reward": 5 + 2 + 5}
        status, out = await _rate(http, server, rid, key, {"ratings": [{"id": first, "rating": 3}]})
        assert (status, out["rc"]) == (400, "AlreadyRated")
        status, out = await _rate(http, server, rid, key, {"ratings": [{"id": "0" * 36, "rating": 3}]})
        assert (status, out["rc"]) == (400, "InvalidImage")
    assert await balance(service, owner) == before + 12
    assert await service.ratings_count(owner.id) == 2
    await assert_books_balance(service)


async def test_rating_rewards_are_capped_per_day(service: HordeService, server, make_user) -> None:
    service.config.ratings.daily_reward_cap = 8
    owner, key, rid, (first, second) = await _finished(service, make_user)
    async with aiohttp.ClientSession() as http:
        status, out = await _rate(http, server, rid, key, {"ratings": [{"id": first, "rating": 6},
                                                                       {"id": second, "rating": 6}]})
    assert status == 200 and out == {"reward": 8}  # 5 + 5, capped at 8 (the ratings still count)
    assert await service.ratings_count(owner.id) == 2


async def test_anyone_rates_the_shared_pool_and_stats_add_up(service: HordeService, server, make_user, clock) -> None:  # type: ignore[no-untyped-def]
    owner, _ = await make_user("owner", kudos=100)
    gpu, _ = await make_user("gpu")
    rater, rkey = await make_user("rater")
    shared = (await service.request_images(owner, image_request("a shared cat", shared=True))).id
    private = (await service.request_images(owner, image_request("a private cat"))).id
    popped = [await service.pop_image(gpu, pop_spec("w")) for _ in range(2)]
    for p in popped:
        await service.submit_image(gpu, submit_spec(p.ids[0]))
    shared_job = next(g.id for g in (await service.status(shared)).generations)
    private_job = next(g.id for g in (await service.status(private)).generations)
    headers = {"apikey": rkey, "Client-Agent": "rater-app:1:x"}
    async with aiohttp.ClientSession() as http:
        async with http.get(server.make_url("/api/v2/ratings/next"), headers=headers) as r:
            image = await r.json()
        assert r.status == 200 and image["id"] == shared_job  # private images are never in the pool
        async with http.get(image["url"]) as got:
            assert got.status == 200
        async with http.post(server.make_url(f"/api/v2/ratings/{private_job}"), headers=headers,
                             json={"rating": 5}) as r:
            assert r.status == 404 and (await r.json())["rc"] == "ImageNotFound"
        async with http.post(server.make_url(f"/api/v2/ratings/{shared_job}"), headers=headers,
                             json={"rating": 9, "artifacts": 0}) as r:
            assert r.status == 200 and (await r.json()) == {"reward": 7.0}
        async with http.get(server.make_url("/api/v2/ratings/next"), headers=headers) as r:
            assert r.status == 404 and (await r.json())["rc"] == "NoImagesToRate"
        async with http.get(server.make_url("/api/v2/stats/ratings")) as r:
            stats = await r.json()
    assert stats == {"ratings_per_client_agent": {"rater-app:1:x": 1},
                     "artifact_ratings_per_client_agent": {"rater-app:1:x": 1},
                     "images_by_number_of_ratings": {"1": 1}, "total": 1}
    assert await balance(service, rater) == 7
    clock.advance(service.config.core.image_retention + 1)
    await service.sweep()
    assert await service.image_bytes(shared_job) is not None  # the pool keeps shared images
    assert await service.image_bytes(private_job) is None
    await assert_books_balance(service)
