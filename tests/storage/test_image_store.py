"""One suite for every image store: local disk and a real S3-compatible server (SeaweedFS, started by the tests).

The store's own contract (keys, reads, deletes), then the image flow through the real HTTP API with the store
behind it: workers upload and clients download where the store says (our signed routes for local disk,
presigned URLs straight to the bucket for S3), forged links are refused, sources reach workers, pruning deletes.
"""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import pytest
from PIL import Image

from horde_core.clock import FakeClock
from horde_core.config import AppConfig, S3Settings
from horde_core.db import Database
from horde_core.queue import lifecycle
from horde_core.service import HordeService
from horde_core.storage import ImageStore, LocalImageStore
from horde_core.storage.s3 import S3ImageStore
from tests.conftest import _serve


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the database is not what this suite tests


def s3_settings(s3_server, bucket: str | None = None) -> S3Settings:  # type: ignore[no-untyped-def]
    return S3Settings(endpoint_url=s3_server.endpoint, bucket=bucket or s3_server.new_bucket(),
                      access_key=s3_server.access_key, secret_key=s3_server.secret_key)


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[ImageStore]:  # type: ignore[no-untyped-def]
    if request.param == "local":
        yield LocalImageStore(tmp_path / "images")
        return
    s3 = await S3ImageStore(s3_settings(request.getfixturevalue("s3_server"))).open()
    try:
        yield s3
    finally:
        await s3.close()


@pytest.fixture
async def svc(store: ImageStore, db_url: str, config: AppConfig, clock: FakeClock) -> AsyncIterator[HordeService]:
    db = Database(db_url)
    await db.create_all()
    service = HordeService(config, db, clock=clock, store=store)
    await service.bootstrap()
    try:
        yield service
    finally:
        await db.dispose()


@pytest.fixture
async def api(svc: HordeService):  # type: ignore[no-untyped-def]
    srv = await _serve(svc)
    try:
        yield srv
    finally:
        await srv.close()


def key(kind: str = "img") -> str:
    return f"{kind}/{uuid.uuid4()}.webp"


def png(rgb: tuple[int, int, int], fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), rgb).save(out, format=fmt)
    return out.getvalue()


def colour(data: bytes) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel((4, 4))  # type: ignore[return-value]


# --- the store's own contract --------------------------------------------------------------------------------


async def test_put_get_exists_delete(store: ImageStore) -> None:
    a, b, missing = key(), key("source"), key()
    await store.put(a, b"first")
    await store.put(b, b"second")
    await store.put(a, b"replaced")
    assert await store.get(a) == b"replaced" and await store.get(b) == b"second"
    assert await store.exists(a) and not await store.exists(missing)
    assert await store.get(missing) is None
    await store.delete(a)
    await store.delete(missing)  # deleting what is not there is fine
    assert not await store.exists(a) and await store.get(a) is None
    others = [key() for _ in range(3)]
    for k in others:
        await store.put(k, b"x")
    await store.delete_many([*others, missing])
    assert [await store.exists(k) for k in [*others, b]] == [False, False, False, True]


@pytest.mark.parametrize("bad", ["../secret.webp", "img/../../etc/passwd", "IMG/0.webp", "img/x.webp", "",
                                 f"img/{uuid.uuid4()}.webp/../x"])
async def test_only_our_own_keys_reach_the_store(store: ImageStore, bad: str) -> None:
    with pytest.raises(ValueError):
        await store.put(bad, b"x")
    with pytest.raises(ValueError):
        await store.get(bad)


# --- the image flow with the store behind the API -------------------------------------------------------------


async def _request(http: aiohttp.ClientSession, api, key_: str, **extra: object) -> str:  # type: ignore[no-untyped-def]
    r = await http.post(api.make_url("/api/v2/generate/async"), headers={"apikey": key_},
                        json={"prompt": "a lighthouse", "params": {"n": 1}, **extra})
    assert r.status == 202, await r.text()
    return str((await r.json())["id"])


async def _pop(http: aiohttp.ClientSession, api, key_: str, **extra: object) -> dict:  # type: ignore[no-untyped-def, type-arg]
    r = await http.post(api.make_url("/api/v2/generate/pop"), headers={"apikey": key_},
                        json={"name": "W", "models": ["stable_diffusion"], "allow_img2img": True, **extra})
    assert r.status == 200
    return dict(await r.json())


async def _submit(http: aiohttp.ClientSession, api, key_: str, job_id: str, generation: str = "R2") -> int:  # type: ignore[no-untyped-def]
    r = await http.post(api.make_url("/api/v2/generate/submit"), headers={"apikey": key_},
                        json={"id": job_id, "generation": generation, "state": "ok"})
    return r.status


def _forged(url: str) -> str:
    """The same link with its signature's last characters changed."""
    head, _, tail = url.rpartition("=")
    return f"{head}={tail[:-4]}{'0000' if not tail.endswith('0000') else '1111'}"


async def test_results_go_straight_to_the_store_and_back(svc: HordeService, api, store: ImageStore,
                                                         make_user) -> None:
    _, rkey = await make_user("req", kudos=100)
    _, wkey = await make_user("gpu")
    async with aiohttp.ClientSession() as http:
        rid = await _request(http, api, rkey)
        pop = await _pop(http, api, wkey)
        upload = pop["r2_upload"]
        if isinstance(store, S3ImageStore):  # presigned: the bytes never pass through the API node
            assert urlsplit(upload).netloc == urlsplit(store.settings.endpoint_url).netloc
        else:
            assert upload.startswith(svc.public_url)
        forged = await http.put(_forged(upload), data=b"forged")
        assert forged.status == 403
        assert await _submit(http, api, wkey, pop["id"]) == 400  # nothing was stored by the forged PUT
        put = await http.put(upload, data=png((200, 10, 10), "WEBP"))  # a plain PUT, no content type, as reGen does
        assert put.status == 200
        assert await _submit(http, api, wkey, pop["id"]) == 200
        status = await (await http.get(api.make_url(f"/api/v2/generate/status/{rid}"))).json()
        img = status["generations"][0]["img"]
        if isinstance(store, S3ImageStore):
            assert urlsplit(img).netloc == urlsplit(store.settings.endpoint_url).netloc
        got = await http.get(img)
        assert got.status == 200 and colour(await got.read())[0] > 180  # the result, checked and re-encoded
        assert (await http.get(_forged(img))).status == 403
        again = await (await http.get(api.make_url(f"/api/v2/generate/status/{rid}"))).json()
        assert again["generations"][0]["img"] == img  # stable while a client polls


async def test_base64_results_and_sources_live_in_the_store(svc: HordeService, api, store: ImageStore,
                                                            make_user) -> None:
    _, rkey = await make_user("req", kudos=100)
    _, wkey = await make_user("gpu")
    source = png((10, 200, 30))
    async with aiohttp.ClientSession() as http:
        rid = await _request(http, api, rkey, r2=False, source_image=base64.b64encode(source).decode(),
                             source_processing="img2img")
        pop = await _pop(http, api, wkey)
        given = Image.open(io.BytesIO(base64.b64decode(pop["source_image"])))  # http: base64 for old workers
        assert given.convert("RGB").getpixel((3, 3))[1] > 150
        assert await store.exists(f"source/{rid}.webp")
        result = base64.b64encode(png((10, 10, 220), "WEBP")).decode()
        assert await _submit(http, api, wkey, pop["id"], result) == 200
        status = await (await http.get(api.make_url(f"/api/v2/generate/status/{rid}"))).json()
        assert colour(base64.b64decode(status["generations"][0]["img"]))[2] > 180
        assert colour(await store.get(f"img/{pop['id']}.webp") or b"")[2] > 180


async def test_pruning_deletes_from_the_store(svc: HordeService, api, store: ImageStore, clock: FakeClock,
                                              make_user) -> None:
    _, rkey = await make_user("req", kudos=100)
    _, wkey = await make_user("gpu")
    async with aiohttp.ClientSession() as http:
        rid = await _request(http, api, rkey, source_image=base64.b64encode(png((1, 2, 3))).decode(),
                             source_processing="img2img")
        pop = await _pop(http, api, wkey)
        assert (await http.put(pop["r2_upload"], data=png((5, 5, 5), "WEBP"))).status == 200
        assert await _submit(http, api, wkey, pop["id"]) == 200
    stored, source = f"img/{pop['id']}.webp", f"source/{rid}.webp"
    assert await store.exists(stored) and await store.exists(source)
    clock.advance(svc.config.core.image_retention + 60)
    assert (await svc.sweep())["pruned"] == 1
    assert not await store.exists(stored) and not await store.exists(source)  # the source goes too
    async with svc.db.read() as conn:
        assert await lifecycle.prunable_sources(conn, svc.clock.now(), svc.config.core.image_retention) == []


async def test_uploads_of_claims_that_never_submitted_are_deleted(svc: HordeService, api, store: ImageStore,
                                                                 clock: FakeClock, make_user) -> None:
    _, rkey = await make_user("req", kudos=100)
    _, wkey = await make_user("gpu")
    async with aiohttp.ClientSession() as http:
        await _request(http, api, rkey)
        pop = await _pop(http, api, wkey)
        assert (await http.put(pop["r2_upload"], data=png((5, 5, 5), "WEBP"))).status == 200
    async with svc.db.read() as conn:
        upload = (await lifecycle.job_row(conn, pop["id"])).upload_key
    assert upload and await store.exists(upload)
    core = svc.config.core
    clock.advance(core.request_expiry + 1)  # the worker never submits; the request expires
    await svc.sweep()
    clock.advance(core.image_retention + 1)
    await svc.sweep()
    assert not await store.exists(upload)  # wherever the store is
