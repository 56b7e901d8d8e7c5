"""Interrogation over real HTTP: forms, alchemists, image forms with upload, URL sources, limits."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image

from horde_core.clock import FakeClock
from horde_core.ledger import pricing
from horde_core.service import HordeService
from tests.helpers import assert_books_balance, balance


def png_bytes(width: int = 640, height: int = 640) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
async def image_host() -> AsyncIterator[TestServer]:
    """A stand-in for the web: serves a PNG, a text file, a huge body and a 404."""
    def route(response: web.Response):  # type: ignore[no-untyped-def]
        async def handler(_: web.Request) -> web.Response:
            return response

        return handler

    app = web.Application()
    app.router.add_get("/cat.png", route(web.Response(body=png_bytes(), content_type="image/png")))
    app.router.add_get("/notes.txt", route(web.Response(text="not an image")))
    app.router.add_get("/huge.png", route(web.Response(body=b"\x89PNG" + b"0" * (3 * 1024 * 1024))))
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


async def _json(resp: aiohttp.ClientResponse) -> dict:  # type: ignore[type-arg]
    return await resp.json()


async def test_forms_are_served_by_the_alchemists_that_know_them(service: HordeService, server,
                                                                  make_user) -> None:
    requester, rkey = await make_user("asker", kudos=50)
    owner, akey = await make_user("alchemist")
    url = server.make_url
    source = base64.b64encode(png_bytes()).decode()
    async with aiohttp.ClientSession() as http:
        r = await http.post(url("/api/v2/interrogate/async"), headers={"apikey": rkey},
                            json={"forms": [{"name": "caption"}, {"name": "nsfw"}, {"name": "RealESRGAN_x4plus"}],
                                  "source_image": source})
        assert r.status == 202
        accepted = await _json(r)
        assert set(accepted) == {"id"}
        rid = accepted["id"]
        status = await _json(await http.get(url(f"/api/v2/interrogate/status/{rid}")))
        assert status["state"] == "waiting" and [f["form"] for f in status["forms"]] == [
            f["form"] for f in status["forms"]] and all("result" not in f for f in status["forms"])

        pop = await _json(await http.post(url("/api/v2/interrogate/pop"), headers={"apikey": akey},
                                          json={"name": "Alchemist A", "forms": ["caption", "nsfw"], "amount": 5}))
        assert sorted(f["form"] for f in pop["forms"]) == ["caption", "nsfw"]
        assert all("r2_upload" not in f for f in pop["forms"])
        got = await http.get(pop["forms"][0]["source_image"])
        assert got.status == 200 and Image.open(io.BytesIO(await got.read())).size == (640, 640)
        for form in pop["forms"]:
            result = {"caption": "a red square"} if form["form"] == "caption" else "False"
            sub = await http.post(url("/api/v2/interrogate/submit"), headers={"apikey": akey},
                                  json={"id": form["id"], "result": result, "state": "ok"})
            assert sub.status == 200 and (await _json(sub))["reward"] == 1.0
        status = await _json(await http.get(url(f"/api/v2/interrogate/status/{rid}")))
        assert status["state"] == "partial"
        results = {f["form"]: f.get("result") for f in status["forms"]}
        assert results["caption"] == {"caption": "a red square"} and results["nsfw"] == {"nsfw": False}
        assert results["RealESRGAN_x4plus"] is None

        small = await _json(await http.post(url("/api/v2/interrogate/pop"), headers={"apikey": akey},
                                            json={"name": "Upscaler", "forms": ["RealESRGAN_x4plus"],
                                                  "max_tiles": 1}))
        assert small["forms"] == []  # 640x640 is two tiles
        up = await _json(await http.post(url("/api/v2/interrogate/pop"), headers={"apikey": akey},
                                         json={"name": "Upscaler", "forms": ["RealESRGAN_x4plus"], "max_tiles": 4}))
        form = up["forms"][0]
        assert form["form"] == "RealESRGAN_x4plus" and form["r2_upload"]
        early = await http.post(url("/api/v2/interrogate/submit"), headers={"apikey": akey},
                                json={"id": form["id"], "result": "R2", "state": "ok"})
        assert early.status == 400 and (await _json(early))["rc"] == "MissingUpload"
        upscaled = io.BytesIO()
        Image.new("RGB", (128, 128), (9, 99, 199)).save(upscaled, format="WEBP", lossless=True)
        assert (await http.put(form["r2_upload"], data=upscaled.getvalue())).status == 200
        sub = await http.post(url("/api/v2/interrogate/submit"), headers={"apikey": akey},
                              json={"id": form["id"], "result": "R2", "state": "ok"})
        assert (await _json(sub))["reward"] == pricing.IMAGE_FORM_COST_PER_TILE * 2
        status = await _json(await http.get(url(f"/api/v2/interrogate/status/{rid}")))
        assert status["state"] == "done"
        link = next(f["result"]["RealESRGAN_x4plus"] for f in status["forms"] if f["form"] == "RealESRGAN_x4plus")
        served = Image.open(io.BytesIO(await (await http.get(link)).read()))  # checked and re-encoded
        assert served.size == (128, 128) and served.convert("RGB").getpixel((3, 3)) == (9, 99, 199)
    assert await balance(service, requester) == 50 - 1 - 1 - 4
    assert await balance(service, owner) == 6
    await assert_books_balance(service)


async def test_url_sources_are_downloaded_with_limits(service: HordeService, server, make_user,
                                                      image_host) -> None:
    user, key = await make_user("asker", kudos=20)
    service.config.core.source_download_max_bytes = 1024 * 1024
    async with aiohttp.ClientSession() as http:
        async def ask(source: str) -> tuple[int, dict]:  # type: ignore[type-arg]
            r = await http.post(server.make_url("/api/v2/interrogate/async"), headers={"apikey": key},
                                json={"forms": [{"name": "caption"}], "source_image": source})
            return r.status, await r.json()

        status, out = await ask(str(image_host.make_url("/cat.png")))
        assert (status, out["rc"]) == (400, "SourceImageUnreachable") and "public" in out["message"]
        service.config.core.allow_private_source_urls = True
        status, out = await ask(str(image_host.make_url("/cat.png")))
        assert status == 202, out
        for path, rc in (("/notes.txt", "SourceImageInvalid"), ("/huge.png", "SourceImageUnreachable"),
                         ("/missing.png", "SourceImageUnreachable")):
            status, out = await ask(str(image_host.make_url(path)))
            assert (status, out["rc"]) == (400, rc), (path, out)
        status, out = await ask(base64.b64encode(b"plain text").decode())
        assert (status, out["rc"]) == (400, "SourceImageInvalid")
        status, out = await ask("http://127.0.0.1:1/nothing.png")
        assert (status, out["rc"]) == (400, "SourceImageUnreachable")
    assert await balance(service, user) == 20 - 1  # only the accepted request cost anything


async def test_unsubmitted_forms_return_then_fault(service: HordeService, server, make_user,
                                                   clock: FakeClock) -> None:
    user, key = await make_user("asker", kudos=10)
    _, akey = await make_user("alchemist")
    async with aiohttp.ClientSession() as http:
        rid = (await _json(await http.post(server.make_url("/api/v2/interrogate/async"), headers={"apikey": key},
                                           json={"forms": [{"name": "caption"}],
                                                 "source_image": base64.b64encode(png_bytes(64, 64)).decode()})))["id"]
        for attempt in range(3):
            pop = await _json(await http.post(server.make_url("/api/v2/interrogate/pop"), headers={"apikey": akey},
                                              json={"name": "slow", "forms": ["caption"]}))
            assert len(pop["forms"]) == 1, attempt
            clock.advance(service.config.core.interrogation_job_ttl + 1)
            await service.sweep()
        status = await _json(await http.get(server.make_url(f"/api/v2/interrogate/status/{rid}")))
        assert status["state"] == "faulted" and status["forms"][0]["state"] == "faulted"
    assert await balance(service, user) == 10
    await assert_books_balance(service)


async def test_flood_control_caps_waiting_interrogations(service: HordeService, server, make_user) -> None:
    service.config.core.max_waiting_interrogations_per_user = 3
    _, key = await make_user("extension", kudos=100)
    source = base64.b64encode(png_bytes(64, 64)).decode()
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(4):
            r = await http.post(server.make_url("/api/v2/interrogate/async"),
                                headers={"apikey": key, "Client-Agent": "captioner:1:x"},
                                json={"forms": [{"name": "caption"}], "source_image": source})
            statuses.append(r.status)
            last = await r.json()
        assert statuses == [202, 202, 202, 429] and last["rc"] == "TooManyInterrogations"
        r = await http.post(server.make_url("/api/v2/interrogate/async"), headers={"apikey": key},
                            json={"forms": [{"name": "telepathy"}], "source_image": source})
        assert r.status == 400 and (await r.json())["rc"] == "UnknownForm"
