"""Several nodes for real: two API processes (`python main.py --role api,sweeper` and `--role api`) and one
bot-role process, on one fresh PostgreSQL database and one S3 bucket (SeaweedFS), all started by this module.

What an operator who outgrew one machine needs to hold: a job queued on A is served by a worker on B and the
client on A gets the image (r2 and base64); an img2img source accepted on A reaches a worker on B; the bot
process hears a job finished on B within a second (LISTEN/NOTIFY: its poll is stretched to a minute);
maintenance set and a key replaced elsewhere hold on B at once; two nodes starting together on an empty
database both come up; no job is handed out twice; the ledger balances.
"""

from __future__ import annotations

import asyncio
import base64
import io
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import pytest
from PIL import Image

from horde_core.config import AppConfig
from horde_core.db import Database
from horde_core.ledger import book
from horde_core.queue import lifecycle
from horde_core.service import HordeService
from tests.conftest import PG_AVAILABLE, PG_HOST, PG_PORT, PG_REQUIRED
from tests.multinode.cluster import Cluster, Node

MODEL = "stable_diffusion"
WITHIN = 1.0  # seconds from a submit on B to the bot process hearing it (the bound)


async def _create_database(name: str) -> None:
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _drop_database(name: str) -> None:
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _start(cluster: Cluster) -> None:
    a = cluster.start_api("A", "api,sweeper")
    b = cluster.start_api("B", "api")  # at the same moment, on the same empty database
    await asyncio.gather(a.wait_ready(), b.wait_ready())
    bot = cluster.start_bot("bot")
    await bot.expect("ready", within=90)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, s3_server) -> Iterator[Cluster]:  # type: ignore[no-untyped-def]
    if not PG_AVAILABLE:
        if PG_REQUIRED:
            pytest.fail("PostgreSQL is required (HORDEBOT_TEST_POSTGRES=required) but does not answer")
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    name = f"hordebot_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_create_database(name))
    cluster = Cluster(Path(tmp_path_factory.mktemp("nodes")), f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/"
                      f"{name}", s3_server, s3_server.new_bucket())
    try:
        asyncio.run(_start(cluster))
        yield cluster
    finally:
        codes = cluster.stop()
        asyncio.run(_drop_database(name))
    assert codes == {"A": 0, "B": 0, "bot": 0}, {n: cluster.nodes[n].output() for n in codes}


@asynccontextmanager
async def core(cluster: Cluster) -> AsyncIterator[HordeService]:
    """The test's own door into the shared database: users to make, books to check."""
    db = Database(cluster.db_url)
    try:
        yield HordeService(AppConfig(core={"data_dir": str(cluster.tmp / "test")}), db)
    finally:
        await db.dispose()


def png(rgb: tuple[int, int, int], fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), rgb).save(out, format=fmt)
    return out.getvalue()


def colour(data: bytes) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel((10, 10))  # type: ignore[return-value]


RESULT = png((90, 90, 90), "WEBP")


class Client:
    """An API client or worker talking to one node over HTTP."""

    def __init__(self, http: aiohttp.ClientSession, node: Node, key: str) -> None:
        self.http, self.node, self.key = http, node, key

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.http.request(method, f"{self.node.url}/api/v2{path}", headers={"apikey": self.key},
                                     **kwargs) as r:
            return r.status, await r.json()

    async def request(self, **body: Any) -> str:
        status, out = await self.call("POST", "/generate/async", json={"prompt": "a lighthouse at dusk",
                                                                        "params": {"n": 1}, **body})
        assert status == 202, out
        return str(out["id"])

    async def pop(self, name: str, **extra: Any) -> dict[str, Any]:
        status, out = await self.call("POST", "/generate/pop", json={
            "name": name, "models": [MODEL], "allow_img2img": True, "max_pixels": 1024 * 1024, **extra})
        assert status == 200, out
        return dict(out)

    async def pop_until(self, name: str, tries: int = 400) -> dict[str, Any]:
        """Pop until a job comes (another node's new job shows up here within its queue hint)."""
        for _ in range(tries):
            popped = await self.pop(name)
            if popped["id"]:
                return popped
            await asyncio.sleep(0.02)  # a worker's polling interval, bounded by `tries`
        raise AssertionError(f"{name} got no job on {self.node.name}")

    async def submit(self, job_id: str, generation: str = "R2") -> int:
        status, out = await self.call("POST", "/generate/submit", json={"id": job_id, "generation": generation,
                                                                         "state": "ok"})
        assert status == 200, out
        return int(out["reward"])


async def _users(cluster: Cluster, *names: str, kudos: int = 1000) -> list[str]:
    async with core(cluster) as svc:
        return [(await svc.create_user(f"{n}-{uuid.uuid4().hex[:6]}", kudos=kudos))[1] for n in names]


def test_two_nodes_started_together_on_an_empty_database_both_serve(cluster: Cluster) -> None:
    for name in ("A", "B", "bot"):
        out = cluster.nodes[name].output()
        assert cluster.nodes[name].proc.poll() is None and "Traceback" not in out, out


async def test_a_result_made_on_b_reaches_the_client_on_a(cluster: Cluster) -> None:
    a, b = cluster.nodes["A"], cluster.nodes["B"]
    rkey, wkey = await _users(cluster, "req", "gpu")
    async with aiohttp.ClientSession() as http:
        client, worker = Client(http, a, rkey), Client(http, b, wkey)
        by_r2 = await client.request()
        popped = await worker.pop_until("gpu-one")
        upload = popped["r2_upload"]
        assert urlsplit(upload).netloc == urlsplit(cluster.s3.endpoint).netloc  # straight to the bucket
        result = png((200, 30, 30), "WEBP")
        async with http.put(upload, data=result) as put:
            assert put.status == 200
        await worker.submit(popped["id"])
        status, out = await client.call("GET", f"/generate/status/{by_r2}")
        img = out["generations"][0]["img"]
        assert status == 200 and urlsplit(img).netloc == urlsplit(cluster.s3.endpoint).netloc
        async with http.get(img) as got:
            assert got.status == 200 and colour(await got.read())[0] > 180  # checked, re-encoded, published

        by_base64 = await client.request(r2=False)
        popped = await worker.pop_until("gpu-one")
        other = png((30, 200, 30), "WEBP")
        await worker.submit(popped["id"], base64.b64encode(other).decode())
        status, out = await client.call("GET", f"/generate/status/{by_base64}")
        assert colour(base64.b64decode(out["generations"][0]["img"]))[1] > 180

        third = await client.request()  # uploaded through B's URL, submitted on A: the same bucket
        popped = await worker.pop_until("gpu-one")
        async with http.put(popped["r2_upload"], data=result) as put:
            assert put.status == 200
        assert await Client(http, a, wkey).submit(popped["id"]) > 0
        status, out = await client.call("GET", f"/generate/check/{third}")
        assert out["done"] is True


async def test_an_img2img_source_accepted_on_a_reaches_a_worker_on_b(cluster: Cluster) -> None:
    rkey, wkey = await _users(cluster, "req", "gpu")
    async with aiohttp.ClientSession() as http:
        await Client(http, cluster.nodes["A"], rkey).request(
            source_image=base64.b64encode(png((20, 40, 220))).decode(), source_processing="img2img")
        popped = await Client(http, cluster.nodes["B"], wkey).pop_until("gpu-img2img")
    source = Image.open(io.BytesIO(base64.b64decode(popped["source_image"]))).convert("RGB")
    red, green, blue = source.getpixel((10, 10))
    assert blue > 180 and red < 60 and green < 80  # the requester's image, read from the bucket on B


async def test_the_bot_process_hears_a_job_finished_on_b_within_a_second(cluster: Cluster) -> None:
    bot, b = cluster.nodes["bot"], cluster.nodes["B"]
    (wkey,) = await _users(cluster, "gpu")
    async with aiohttp.ClientSession() as http:
        worker = Client(http, b, wkey)
        assert (await worker.pop("gpu-for-discord"))["id"] is None  # online, serving MODEL
        bot.send({"cmd": "generate", "prompt": "a red fox in snow", "model": MODEL})
        popped = await worker.pop_until("gpu-for-discord")
        async with core(cluster) as svc, svc.db.read() as conn:
            request_id = (await lifecycle.job_row(conn, popped["id"])).request_id
        result = png((10, 10, 240), "WEBP")
        async with http.put(popped["r2_upload"], data=result) as put:
            assert put.status == 200
        submitted = time.time()
        await worker.submit(popped["id"])
    heard = await bot.expect("job_finished", request_id=request_id)
    delivered = await bot.expect("delivered")
    assert heard["at"] - submitted < WITHIN, heard["at"] - submitted
    assert len(delivered["files"]) == 1 and delivered["files"][0] > 0  # the image, read from the bucket there
    assert delivered["at"] - submitted < WITHIN, delivered["at"] - submitted


async def test_maintenance_and_a_replaced_key_hold_on_the_other_node_at_once(cluster: Cluster) -> None:
    a, b = cluster.nodes["A"], cluster.nodes["B"]
    rkey, wkey = await _users(cluster, "req", "gpu")
    async with aiohttp.ClientSession() as http:
        on_a, on_b = Client(http, a, wkey), Client(http, b, wkey)
        assert (await on_b.pop("gpu-maint"))["id"] is None  # B knows the worker (and the key) now
        status, found = await on_a.call("GET", "/workers?name=gpu-maint")
        worker_id = found[0]["id"] if isinstance(found, list) else found["id"]
        status, out = await on_a.call("PUT", f"/workers/{worker_id}", json={"maintenance": True})
        assert status == 200, out
        await Client(http, a, rkey).request()
        assert (await on_b.pop("gpu-maint"))["id"] is None  # at once: not a job for a worker in maintenance
        status, out = await on_a.call("PUT", f"/workers/{worker_id}", json={"maintenance": False})
        assert (await on_b.pop_until("gpu-maint"))["id"]

        async with core(cluster) as svc:
            name = (await svc.authenticate(wkey)).display_name.split("#")[0]
        assert (await on_b.call("GET", "/find_user"))[0] == 200  # B has the key cached (10 s without events)
        rekeyed = await asyncio.to_thread(cluster.cli, "user", "key", name)  # a node of its own
        assert rekeyed.returncode == 0, rekeyed.stderr
        deadline = time.monotonic() + WITHIN
        while (await on_b.call("GET", "/find_user"))[0] == 200:
            assert time.monotonic() < deadline, "B still accepts the replaced key"
            await asyncio.sleep(0.01)  # polling B, bounded by WITHIN (its cache TTL is ten times that)
        new = Client(http, b, rekeyed.stdout.strip().splitlines()[-1])
        assert (await new.call("GET", "/find_user"))[0] == 200


async def test_no_job_is_handed_out_twice_and_the_books_balance(cluster: Cluster) -> None:
    a, b = cluster.nodes["A"], cluster.nodes["B"]
    first, second, wkey = await _users(cluster, "req1", "req2", "gpu")
    jobs = 30
    async with aiohttp.ClientSession() as http:
        requesters = [Client(http, node, key) for node in (a, b) for key in (first, second)]
        ids = await asyncio.gather(*[requesters[i % 4].request() for i in range(jobs)])
        got: list[str] = []

        async def work(node: Node, other: Node, name: str) -> None:
            worker, submitter = Client(http, node, wkey), Client(http, other, wkey)
            for _ in range(600):  # bounded: the queue empties within a few hundred pops
                if len(got) >= jobs:
                    return
                popped = await worker.pop(name)
                if not popped["id"]:
                    await asyncio.sleep(0.02)
                    continue
                got.extend(popped["ids"])
                for job_id in popped["ids"]:
                    await submitter.submit(job_id, base64.b64encode(RESULT).decode())

        await asyncio.gather(*[work(n, o, f"gpu-race-{i}") for i, (n, o) in enumerate([(a, b), (b, a)] * 2)])
        assert len(got) == jobs and len(set(got)) == jobs  # every job once, none twice
        for rid in ids:
            status, out = await requesters[0].call("GET", f"/generate/check/{rid}")
            assert out["done"] is True and out["finished"] == 1
    async with core(cluster) as svc, svc.db.read() as conn:
        totals = await book.totals(conn)
    assert totals["minted"] == totals["balances"] + totals["escrows"] + totals["burned"], totals
