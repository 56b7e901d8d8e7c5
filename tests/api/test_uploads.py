"""Uploads are tied to the claim that earned them, and results cannot hurt anyone who views them.

Before: a signed upload URL stayed valid for its whole lifetime, so a second PUT after submit replaced the
image the client downloaded, and a worker whose job had timed out and gone to another worker overwrote
that worker's result. A worker could also submit HTML, or a 30000x30000 PNG, served as `image/webp`.
"""

from __future__ import annotations

import base64
import io
import os
import struct
import zlib

import aiohttp
from PIL import Image

from horde_core.service import HordeService
from tests.helpers import assert_books_balance, balance


def webp(color: tuple[int, int, int], size: tuple[int, int] = (64, 64), lossless: bool = True) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="WEBP", lossless=lossless)
    return out.getvalue()


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A small PNG whose header claims a huge size (decoding it would take gigabytes)."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, format="PNG")
    data = bytearray(out.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr:ihdr + 17])))
    return bytes(data)


def color_of(data: bytes) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel((5, 5))  # type: ignore[return-value]


class Horde:
    def __init__(self, http: aiohttp.ClientSession, server) -> None:  # type: ignore[no-untyped-def]
        self.http, self.server = http, server

    async def post(self, path: str, key: str | None, body: dict) -> tuple[int, dict]:  # type: ignore[type-arg]
        async with self.http.post(self.server.make_url(path), json=body,
                                  headers={"apikey": key} if key else {}) as r:
            return r.status, await r.json()

    async def request(self, key: str, n: int = 1) -> str:
        status, out = await self.post("/api/v2/generate/async", key, {"prompt": "a fox", "params": {"n": n}})
        assert status == 202, out
        return str(out["id"])

    async def pop(self, key: str, name: str) -> dict:  # type: ignore[type-arg]
        status, out = await self.post("/api/v2/generate/pop", key, {"name": name, "models": ["stable_diffusion"]})
        assert status == 200 and out["id"], out
        return out

    async def put(self, url: str, data: bytes) -> tuple[int, dict | None]:  # type: ignore[type-arg]
        async with self.http.put(url, data=data) as r:
            return r.status, (await r.json(content_type=None) if r.status != 200 else None)

    async def submit(self, key: str, job_id: str, generation: str = "R2", **extra: object) -> tuple[int, dict]:  # type: ignore[type-arg]
        return await self.post("/api/v2/generate/submit", key, {"id": job_id, "generation": generation, **extra})

    async def image(self, request_id: str) -> tuple[bytes, aiohttp.ClientResponse]:
        async with self.http.get(self.server.make_url(f"/api/v2/generate/status/{request_id}")) as r:
            status = await r.json()
        async with self.http.get(status["generations"][0]["img"]) as got:
            assert got.status == 200
            return await got.read(), got


async def test_a_submitted_image_never_changes(service: HordeService, server, make_user) -> None:
    _, rkey = await make_user("req", kudos=100)
    _, wkey = await make_user("gpu")
    async with aiohttp.ClientSession() as http:
        horde = Horde(http, server)
        rid = await horde.request(rkey)
        pop = await horde.pop(wkey, "w")
        assert (await horde.put(pop["r2_upload"], webp((10, 200, 30))))[0] == 200
        assert (await horde.put(pop["r2_upload"], webp((11, 201, 31))))[0] == 200  # before submit: the last counts
        status, out = await horde.submit(wkey, pop["id"])
        assert status == 200 and out["reward"] > 0, out
        status, refused = await horde.put(pop["r2_upload"], webp((250, 0, 0)))
        assert status == 409 and refused is not None and refused["rc"] == "JobNotHeld", refused
        data, _ = await horde.image(rid)
        assert color_of(data) == (11, 201, 31)


async def test_a_stale_claim_cannot_replace_the_result(service: HordeService, server, make_user, clock) -> None:
    _, rkey = await make_user("req", kudos=100)
    _, slow_key = await make_user("slow")
    _, fast_key = await make_user("fast")
    async with aiohttp.ClientSession() as http:
        horde = Horde(http, server)
        rid = await horde.request(rkey)
        stale = await horde.pop(slow_key, "slow worker")
        clock.advance(service.config.core.image_job_ttl + 1)
        await service.sweep()  # the job timed out and goes back to the queue
        fresh = await horde.pop(fast_key, "fast worker")
        assert fresh["id"] != stale["id"] and fresh["r2_upload"] != stale["r2_upload"]  # retried under a new id
        status, refused = await horde.put(stale["r2_upload"], webp((250, 0, 0)))
        assert status == 409 and refused is not None and refused["rc"] == "JobNotHeld"
        assert (await horde.put(fresh["r2_upload"], webp((0, 0, 250))))[0] == 200
        assert (await horde.submit(fast_key, fresh["id"]))[0] == 200
        assert (await horde.put(stale["r2_upload"], webp((250, 0, 0))))[0] == 409
        status, out = await horde.submit(slow_key, stale["id"])
        assert (status, out["rc"]) == (400, "AbortedGen"), out
        data, _ = await horde.image(rid)
        assert color_of(data) == (0, 0, 250)


async def test_results_are_checked_and_reencoded(service: HordeService, server, make_user) -> None:
    """A base64 result is decoded with a pixel limit and stored as WebP; garbage answers 400."""
    _, rkey = await make_user("req", kudos=200)
    _, wkey = await make_user("gpu")
    async with aiohttp.ClientSession() as http:
        horde = Horde(http, server)
        rid = await horde.request(rkey)
        pop = await horde.pop(wkey, "w")
        for garbage in (b"<html><script>alert(1)</script></html>", png_bomb(), b"\x89PNG\r\n\x1a\n" + b"\x00" * 40):
            status, out = await horde.submit(wkey, pop["id"], base64.b64encode(garbage).decode())
            assert (status, out["rc"]) == (400, "InvalidGeneration"), out
        status, out = await horde.submit(wkey, pop["id"], "%%% not base64 %%%")
        assert (status, out["rc"]) == (400, "InvalidGeneration"), out
        png = io.BytesIO()
        Image.new("RGB", (64, 64), (40, 80, 160)).save(png, format="PNG")
        status, out = await horde.submit(wkey, pop["id"], base64.b64encode(png.getvalue()).decode())
        assert status == 200 and out["reward"] > 0, out
        data, got = await horde.image(rid)
        assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
        assert got.headers["Content-Type"] == "image/webp"
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in got.headers["Content-Security-Policy"]
        assert "default-src 'none'" in got.headers["Content-Security-Policy"]


async def test_an_undecodable_upload_is_a_failed_generation(service: HordeService, server, make_user) -> None:
    """The PUT answers 200 for any bytes (reGen and horde-sdk rely on it); the submit finds they are not an
    image: the worker is not paid, the job fails like any other failure and is refunded when it keeps failing."""
    requester, rkey = await make_user("req", kudos=100)
    owner, wkey = await make_user("gpu")
    async with aiohttp.ClientSession() as http:
        horde = Horde(http, server)
        rid = await horde.request(rkey)
        for attempt in range(service.config.core.max_job_faults + 1):
            pop = await horde.pop(wkey, "w")
            garbage = b"<html>hi</html>" if attempt == 0 else (png_bomb() if attempt == 1 else os.urandom(786_432))
            assert (await horde.put(pop["r2_upload"], garbage))[0] == 200
            status, out = await horde.submit(wkey, pop["id"])
            assert status == 200 and out["reward"] == 0, out
        async with http.get(server.make_url(f"/api/v2/generate/check/{rid}")) as r:
            check = await r.json()
        assert check["faulted"] is True and check["finished"] == 0, check
    assert await balance(service, requester) == 100
    assert await balance(service, owner) == 0
    await assert_books_balance(service)


async def test_alchemy_image_forms_are_claim_bound_and_checked(service: HordeService, server, make_user) -> None:
    _, rkey = await make_user("req", kudos=500)
    _, wkey = await make_user("alchemist")
    source = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(source, format="PNG")
    async with aiohttp.ClientSession() as http:
        horde = Horde(http, server)
        status, out = await horde.post("/api/v2/interrogate/async", rkey, {
            "forms": [{"name": "RealESRGAN_x4plus"}], "source_image": base64.b64encode(source.getvalue()).decode()})
        assert status == 202, out
        rid = out["id"]
        status, pop = await horde.post("/api/v2/interrogate/pop", wkey, {"name": "a", "forms": ["RealESRGAN_x4plus"]})
        (form,) = pop["forms"]
        assert (await horde.put(form["r2_upload"], webp((7, 8, 9), (256, 256))))[0] == 200
        status, out = await horde.post("/api/v2/interrogate/submit", wkey, {"id": form["id"], "result": "R2"})
        assert status == 200, out
        assert (await horde.put(form["r2_upload"], b"<html>"))[0] == 409
        async with http.get(server.make_url(f"/api/v2/interrogate/status/{rid}")) as r:
            status_out = await r.json()
        url = status_out["forms"][0]["result"]["RealESRGAN_x4plus"]
        async with http.get(url) as got:
            assert got.headers["X-Content-Type-Options"] == "nosniff"
            assert color_of(await got.read()) == (7, 8, 9)
