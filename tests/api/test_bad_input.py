"""Bad input gets a clear 4xx `{"message", "rc"}` and costs nothing; never a 500."""

from __future__ import annotations

import base64
import io
import uuid

import aiohttp
import pytest
from PIL import Image

from horde_core.service import HordeService
from tests.helpers import assert_books_balance, balance


def _png(width: int, height: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


async def _post(http: aiohttp.ClientSession, server, path: str, *, key: str | None = None,  # type: ignore[no-untyped-def]
                json: object = None, data: bytes | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    headers = {"apikey": key} if key else {}
    async with http.post(server.make_url(path), headers=headers, json=json, data=data) as r:
        return r.status, await r.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "x", "params": {"width": 100}}, "params.width"),
        ({"prompt": "x", "params": {"height": 3136}}, "params.height"),
        ({"prompt": "x", "params": {"steps": 0}}, "params.steps"),
        ({"prompt": "x", "params": {"steps": 501}}, "params.steps"),
        ({"prompt": "x", "params": {"n": 21}}, "params.n"),
        ({"prompt": ""}, "prompt"),
        ({"params": {}}, "prompt"),
        ({"prompt": "x", "source_processing": "melt"}, "source_processing"),
    ],
)
async def test_invalid_requests_name_the_field(service: HordeService, server, make_user, body, field) -> None:
    user, key = await make_user(kudos=50)
    async with aiohttp.ClientSession() as http:
        status, out = await _post(http, server, "/api/v2/generate/async", key=key, json=body)
    assert status == 400 and out["rc"] == "ValidationError" and field in out["errors"], out
    assert await balance(service, user) == 50


async def test_malformed_bodies(service: HordeService, server, make_user) -> None:
    _, key = await make_user(kudos=50)
    async with aiohttp.ClientSession() as http:
        status, out = await _post(http, server, "/api/v2/generate/async", key=key, data=b"{not json")
        assert (status, out["rc"]) == (400, "InvalidJSON")
        status, out = await _post(http, server, "/api/v2/generate/async", key=key, json=[1, 2])
        assert (status, out["rc"]) == (400, "InvalidJSON")
        huge = b'{"prompt": "' + b"a" * (service.config.api.max_body_bytes + 10) + b'"}'
        status, out = await _post(http, server, "/api/v2/generate/async", key=key, data=huge)
        assert status == 413 and out["rc"] == "PayloadTooLarge"
        long_prompt = {"prompt": "a" * (service.config.core.max_prompt_length + 1)}
        status, out = await _post(http, server, "/api/v2/generate/async", key=key, json=long_prompt)
        assert (status, out["rc"]) == (400, "PromptTooLong")
        status, out = await _post(http, server, "/api/v2/generate/async", key=key,
                                  json={"prompt": "x", "unknown_field": 1, "params": {"sampler": "k_lms"}})
        assert status == 202, out  # unknown fields are ignored


async def test_unknown_ids_and_keys(service: HordeService, server, make_user) -> None:
    _, key = await make_user()
    async with aiohttp.ClientSession() as http:
        for path in (f"/api/v2/generate/check/{uuid.uuid4()}", "/api/v2/generate/status/not-a-uuid",
                     f"/api/v2/generate/status/{uuid.uuid4()}"):
            async with http.get(server.make_url(path)) as r:
                assert r.status == 404 and (await r.json())["rc"] == "RequestNotFound"
        async with http.get(server.make_url("/api/v2/nothing/here")) as r:
            assert r.status == 404 and "rc" in await r.json()
        status, out = await _post(http, server, "/api/v2/generate/async", key="x" * 22, json={"prompt": "x"})
        assert (status, out["rc"]) == (401, "InvalidAPIKey")
        status, out = await _post(http, server, "/api/v2/generate/pop", json={"name": "w"})
        assert (status, out["rc"]) == (403, "AnonForbidden")
        status, out = await _post(http, server, "/api/v2/generate/submit", key=key,
                                  json={"id": str(uuid.uuid4()), "generation": "R2"})
        assert status in (400, 404)
        async with http.get(server.make_url("/api/v2/find_user"), headers={"apikey": "y" * 22}) as r:
            assert r.status == 404
        async with http.get(server.make_url("/api/v2/users/99999999999999")) as r:
            assert r.status == 404


async def test_source_images_are_checked(service: HordeService, server, make_user) -> None:
    user, key = await make_user(kudos=100)
    async with aiohttp.ClientSession() as http:
        status, out = await _post(http, server, "/api/v2/generate/async", key=key,
                                  json={"prompt": "x", "source_image": base64.b64encode(b"hello").decode()})
        assert (status, out["rc"]) == (400, "SourceImageInvalid")
        status, out = await _post(http, server, "/api/v2/generate/async", key=key,
                                  json={"prompt": "x", "source_image": "%%%not base64%%%"})
        assert status == 400
        status, out = await _post(http, server, "/api/v2/generate/async", key=key,
                                  json={"prompt": "x", "source_image": _png(4000, 4000)})
        assert (status, out["rc"]) == (400, "SourceImageInvalid") and "pixels" in out["message"]
        status, out = await _post(http, server, "/api/v2/generate/async", key=key,
                                  json={"prompt": "x", "source_image": _png(64, 64)})
        assert status == 202, out
    assert await balance(service, user) == 100 - out["kudos"]
    await assert_books_balance(service)


async def test_job_of_another_worker_and_limits(service: HordeService, server, make_user) -> None:
    _, rkey = await make_user("req", kudos=0, concurrency=2)
    _, akey = await make_user("a")
    _, bkey = await make_user("b")
    async with aiohttp.ClientSession() as http:
        status, out = await _post(http, server, "/api/v2/generate/async", key=rkey,
                                  json={"prompt": "x", "params": {"n": 3}})
        assert (status, out["rc"]) == (429, "TooManyPrompts")
        status, out = await _post(http, server, "/api/v2/generate/async", key=rkey,
                                  json={"prompt": "x", "params": {"n": 2, "width": 1024, "height": 1024}})
        assert (status, out["rc"]) == (403, "KudosUpfront")
        status, accepted = await _post(http, server, "/api/v2/generate/async", key=rkey, json={"prompt": "x"})
        assert status == 202
        status, pop = await _post(http, server, "/api/v2/generate/pop", key=akey, json={"name": "wa"})
        assert pop["id"]
        status, out = await _post(http, server, "/api/v2/generate/pop", key=bkey, json={"name": "wa"})
        assert (status, out["rc"]) == (403, "WrongCredentials")
        status, out = await _post(http, server, "/api/v2/generate/submit", key=bkey,
                                  json={"id": pop["id"], "generation": "aGk="})
        assert (status, out["rc"]) == (403, "WrongCredentials")
        status, out = await _post(http, server, "/api/v2/generate/submit", key=akey,
                                  json={"id": pop["id"], "generation": "R2"})
        assert (status, out["rc"]) == (400, "MissingUpload")
        bad_sig = pop["r2_upload"].replace("sig=", "sig=0")
        async with http.put(bad_sig, data=b"x") as r:
            assert r.status == 403
        status, out = await _post(http, server, "/api/v2/kudos/transfer", key=akey,
                                  json={"username": "nobody#999", "amount": 1})
        assert status == 404
        status, out = await _post(http, server, "/api/v2/kudos/transfer", key=akey,
                                  json={"username": "req", "amount": -1})
        assert status == 400
    await assert_books_balance(service)
