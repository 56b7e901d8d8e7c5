"""Ratings over HTTP: owners rate their own results (rewarded, once per image, capped per day, never for
others), anyone rates the pool (shared and imported images), within a rate limit."""

from __future__ import annotations

import io

import aiohttp
import pytest
from PIL import Image

from horde_core.ratings.labels import Labels
from horde_core.service import HordeError, HordeService
from tests.helpers import assert_books_balance, balance, image_request, pop_spec, submit_spec, tiny_png


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


async def test_rating_too_fast_answers_429_and_costs_nothing(service: HordeService, server, make_user, clock) -> None:  # type: ignore[no-untyped-def]
    service.config.ratings.ratings_per_minute = 6.0  # one every 10 s
    service.config.ratings.ratings_burst = 2
    ids = [(await service.import_image("faces", tiny_png(i)))[0] for i in range(4)]
    rater, key = await make_user("rater")
    async with aiohttp.ClientSession() as http:
        async def rate(image_id: str) -> tuple[int, dict]:  # type: ignore[type-arg]
            async with http.post(server.make_url(f"/api/v2/ratings/{image_id}"), headers={"apikey": key},
                                 json={"rating": 6}) as r:
                return r.status, await r.json()

        assert [(await rate(i))[0] for i in ids[:2]] == [200, 200]
        status, out = await rate(ids[2])
        assert status == 429 and out["rc"] == "TooManyRatings" and "a minute" in out["message"]
        assert await balance(service, rater) == 10 and await service.ratings_count(rater.id) == 2
        clock.advance(10)
        assert (await rate(ids[2]))[0] == 200
        assert (await rate(ids[3]))[0] == 429
    assert await balance(service, rater) == 15 and await service.ratings_count(rater.id) == 3
    await assert_books_balance(service)


async def test_imported_images_join_the_pool_and_the_dataset_filter_works(  # type: ignore[no-untyped-def]
        service: HordeService, server, make_user, clock) -> None:
    owner, _ = await make_user("owner", kudos=100)
    gpu, _ = await make_user("gpu")
    await service.request_images(owner, image_request("a shared cat", shared=True))
    job = (await service.pop_image(gpu, pop_spec("w"))).ids[0]
    await service.submit_image(gpu, submit_spec(job))
    clock.advance(1)
    face, added = await service.import_image("faces", tiny_png(1), Labels(caption="a face"))
    assert added == "added"
    assert await service.import_image("faces", tiny_png(1), Labels(caption="a face")) == (face, "unchanged")
    assert await service.import_image("faces", tiny_png(1), Labels(caption="a smiling face")) == (face, "relabelled")
    assert (await service.import_image("faces-2", tiny_png(1)))[1] == "added"  # another dataset, another image
    for bad, rc in (("hordebot", "InvalidDataset"), ("no spaces", "InvalidDataset")):
        with pytest.raises(HordeError) as refused:
            await service.import_image(bad, tiny_png(2))
        assert refused.value.rc == rc
    with pytest.raises(HordeError) as not_image:
        await service.import_image("faces", b"not an image")
    assert not_image.value.rc == "NotAnImage"
    _, rkey = await make_user("rater")
    headers = {"apikey": rkey, "Client-Agent": "rater-app:1:x"}
    async with aiohttp.ClientSession() as http:
        async def next_image(query: str = "") -> tuple[int, dict]:  # type: ignore[type-arg]
            async with http.get(server.make_url(f"/api/v2/ratings/next{query}"), headers=headers) as r:
                return r.status, await r.json()

        status, image = await next_image("?dataset=faces")
        assert status == 200 and image == {"id": face, "model": "", "url": image["url"], "dataset": "faces"}
        async with http.get(image["url"]) as got:
            assert got.status == 200 and await got.read() == await service.image_bytes(face)
        status, image = await next_image("?dataset=hordebot")
        assert status == 200 and (image["id"], image["dataset"]) == (job, "hordebot")
        assert image["model"] == "stable_diffusion"
        assert (await next_image("?model=stable_diffusion"))[1]["id"] == job  # imported images have no model
        assert (await next_image("?dataset=nope"))[0] == 404
        async with http.post(server.make_url(f"/api/v2/ratings/{face}"), headers=headers,
                             json={"rating": 8, "artifacts": 1}) as r:
            assert r.status == 200 and await r.json() == {"reward": 7.0}
        async with http.get(server.make_url("/api/v2/stats/ratings")) as r:
            stats = await r.json()
    assert stats["total"] == 1 and stats["images_by_number_of_ratings"] == {"1": 1}
    outline, data = await service.job_outline(face)
    assert outline["prompt"] == "a smiling face" and outline["nsfw"] is False
    assert data == await service.image_bytes(face)
    assert Image.open(io.BytesIO(data or b"")).size == (8, 8)
