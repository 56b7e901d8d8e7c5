"""Contract tests in the raw wire shapes of the old AI-Horde-Worker, reGen and small clients.

No SDK here: these bodies and headers are what those programs put on the wire, and the
assertions read only what they read.
"""

from __future__ import annotations

import asyncio
import base64
import io
import uuid
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from PIL import Image

from horde_core.queue import lifecycle
from horde_core.service import HordeService
from horde_core.workers import repo as workers_repo

REGEN_AGENT = "AI Horde Worker reGen:8.0.1-citests:https://github.com/Haidra-Org/horde-worker-reGen"
OLD_AGENT = "AI Horde Worker:24:https://github.com/db0/AI-Horde-Worker"
SKIP_KEYS = {"blacklist", "bridge_version", "kudos", "models", "nsfw", "performance", "untrusted", "worker_id",
             "max_pixels", "unsafe_ip", "img2img", "painting", "post-processing", "lora", "controlnet", "step_count"}


def webp(color: tuple[int, int, int] = (10, 120, 250), size: tuple[int, int] = (64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="WEBP", lossless=True)
    return out.getvalue()


def b64_webp(color: tuple[int, int, int] = (10, 120, 250)) -> str:
    return base64.b64encode(webp(color)).decode()


def old_pop(name: str, models: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """The body the old AI-Horde-Worker sends to /generate/pop: nothing more."""
    body: dict[str, Any] = {
        "name": name, "max_pixels": 1024 * 1024, "priority_usernames": [], "nsfw": True, "blacklist": [],
        "models": ["stable_diffusion"] if models is None else models, "allow_img2img": True,
        "allow_painting": True, "allow_unsafe_ipaddr": True, "allow_post_processing": True,
        "allow_controlnet": False, "require_upfront_kudos": False, "bridge_version": 11,
        "bridge_agent": OLD_AGENT, "threads": 1,
    }
    body.update(extra)
    return body


class Api:
    """Raw HTTP to the server, returning (status, json)."""

    def __init__(self, http: aiohttp.ClientSession, server: Any) -> None:
        self.http, self.server = http, server

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def send(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                   ) -> tuple[int, Any]:
        async with self.http.request(method, self.url(path), json=body, headers=headers or {}) as r:
            return r.status, await r.json()

    async def request(self, key: str, body: dict[str, Any] | None = None, **headers: str) -> str:
        body = body or {"prompt": "a red bicycle", "params": {"steps": 50}}
        status, out = await self.send("POST", "/api/v2/generate/async", body, {"apikey": key, **headers})
        assert status == 202, out
        return str(out["id"])

    async def pop(self, key: str, body: dict[str, Any], header: str = "apikey") -> dict[str, Any]:
        status, out = await self.send("POST", "/api/v2/generate/pop", body, {header: key})
        assert status == 200, out
        return out  # type: ignore[no-any-return]

    async def submit(self, key: str, body: dict[str, Any]) -> tuple[int, Any]:
        return await self.send("POST", "/api/v2/generate/submit", body, {"apikey": key})


@pytest.fixture
async def api(server: Any) -> Any:
    async with aiohttp.ClientSession() as http:
        yield Api(http, server)


async def raw_put(url: str, data: bytes) -> tuple[int, bytes]:
    """PUT exactly as `requests.put(url, data=bytes)` does: no apikey, no Content-Type, the URL as given."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    target = parts.path + ("?" + parts.query if parts.query else "")
    head = (f"PUT {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {len(data)}\r\n"
            "Connection: close\r\n\r\n")
    writer.write(head.encode() + data)
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = response.partition(b"\r\n")
    assert b"content-type" not in head.lower().encode()
    return int(status_line.split()[1]), rest


async def test_old_worker_pop_submit_without_state_or_seed(service: HordeService, server, api, make_user) -> None:
    _, rkey = await make_user("requester", kudos=100)
    _, wkey = await make_user("old gpu")
    rid = await api.request(rkey, {"prompt": "a red bicycle", "params": {"steps": 50}, "r2": False})
    pop = await api.pop(wkey, old_pop("Old Worker"))
    # the old worker reads only these
    job_id, upload = pop["id"], pop["r2_upload"]
    assert uuid.UUID(job_id) and isinstance(upload, str) and upload.startswith("http")
    payload = pop["payload"]
    assert payload["ddim_steps"] == 50 and payload["n_iter"] == 1
    assert "steps" not in payload and "n" not in payload
    assert isinstance(payload["seed"], str) and payload["seed"].isdigit()
    assert payload["prompt"] == "a red bicycle"
    assert pop["model"] == "stable_diffusion"
    assert set(pop["skipped"]) <= SKIP_KEYS

    status, out = await api.submit(wkey, {"id": job_id, "generation": b64_webp()})  # no state, no seed
    assert status == 200, out
    assert out == {"reward": 10.0}

    status, final = await api.send("GET", f"/api/v2/generate/status/{rid}")
    assert status == 200 and final["done"] is True
    (gen,) = final["generations"]
    assert gen["state"] == "ok" and gen["censored"] is False
    assert gen["seed"] == payload["seed"]  # the job's own seed, as a string
    assert gen["worker_name"] == "Old Worker"
    image = Image.open(io.BytesIO(base64.b64decode(gen["img"])))
    assert image.format == "WEBP" and image.convert("RGB").getpixel((3, 3)) == (10, 120, 250)


async def test_old_worker_uploads_then_submits_r2_without_state(service: HordeService, server, api,
                                                                make_user) -> None:
    _, rkey = await make_user("requester", kudos=100)
    _, wkey = await make_user("old gpu")
    rid = await api.request(rkey)
    pop = await api.pop(wkey, old_pop("Old R2 Worker"))
    status, _ = await raw_put(pop["r2_upload"], webp((1, 2, 3)))
    assert status == 200
    status, out = await api.submit(wkey, {"id": pop["id"], "generation": "R2"})
    assert status == 200 and out["reward"] == 10.0
    _, final = await api.send("GET", f"/api/v2/generate/status/{rid}")
    (gen,) = final["generations"]
    async with api.http.get(gen["img"]) as got:  # a plain GET without headers
        assert got.status == 200
        assert Image.open(io.BytesIO(await got.read())).convert("RGB").getpixel((0, 0)) == (1, 2, 3)


async def test_empty_pop_shape(service: HordeService, server, api, make_user) -> None:
    _, wkey = await make_user("gpu")
    _, rkey = await make_user("requester", kudos=100)
    pop = await api.pop(wkey, old_pop("Idle Worker"))
    assert pop["id"] is None and pop["ids"] == [] and pop["payload"] == {}
    assert isinstance(pop["skipped"], dict) and set(pop["skipped"]) <= SKIP_KEYS
    assert pop.get("model") is None  # absent or null, never ""
    assert set(pop) <= {"id", "ids", "payload", "skipped", "model"}

    await api.request(rkey, {"prompt": "p", "models": ["Deliberate"]})
    pop = await api.pop(wkey, old_pop("Idle Worker"))
    assert pop["id"] is None and pop["ids"] == [] and pop["payload"] == {}
    assert pop.get("model") is None
    assert pop["skipped"] == {"models": 1}

    await api.request(rkey, {"prompt": "p", "params": {"width": 1024, "height": 1024}})
    pop = await api.pop(wkey, old_pop("Idle Worker", max_pixels=512 * 512))
    assert pop["id"] is None and pop.get("model") is None
    assert pop["skipped"] == {"models": 1, "max_pixels": 1}


@pytest.mark.parametrize("header", ["APIKEY", "Apikey", "ApiKey"])
async def test_apikey_header_in_any_letter_case(service: HordeService, server, api, make_user, header) -> None:
    user, key = await make_user("casey", kudos=100)
    status, out = await api.send("POST", "/api/v2/generate/async", {"prompt": "p"}, {header: key})
    assert status == 202, out
    status, who = await api.send("GET", "/api/v2/find_user", headers={header: key})
    assert status == 200 and who["id"] == user.id
    pop = await api.pop(key, old_pop("Case Worker"), header=header)
    assert pop["id"] is not None
    status, out = await api.send("POST", "/api/v2/generate/submit", {"id": pop["id"], "generation": b64_webp()},
                                 {header: key})
    assert status == 200 and out["reward"] > 0


async def test_client_agent_in_both_spellings_is_recorded(service: HordeService, server, api, make_user) -> None:
    _, key = await make_user("agent", kudos=100)
    dashed = await api.request(key, {"prompt": "p"}, **{"Client-Agent": "ArtBot:2.0:https://example.org"})
    underscored = await api.request(key, {"prompt": "p"}, client_agent="horde_sdk:0.18.0:https://github.com/x")
    free_form = await api.request(key, {"prompt": "p"}, **{"Client-Agent": "just some words"})
    absent = await api.request(key, {"prompt": "p"})
    async with service.db.read() as conn:
        rows = {rid: await lifecycle.request_row(conn, rid) for rid in (dashed, underscored, free_form, absent)}
    assert rows[dashed].client_agent == "ArtBot:2.0:https://example.org"
    assert rows[underscored].client_agent == "horde_sdk:0.18.0:https://github.com/x"
    assert rows[free_form].client_agent == "just some words"
    assert rows[absent].client_agent == ""


async def test_worker_name_with_spaces_and_regen_bridge_agent(service: HordeService, server, api,
                                                              make_user) -> None:
    owner, wkey = await make_user("spacey")
    name = "My  Worker  With Spaces 01"
    await api.pop(wkey, {"name": name, "models": ["stable_diffusion"], "bridge_agent": REGEN_AGENT,
                         "max_pixels": 262144, "amount": 1})
    status, listed = await api.send("GET", "/api/v2/workers?type=image")
    assert status == 200
    (worker,) = listed
    assert worker["name"] == name and worker["bridge_agent"] == REGEN_AGENT
    assert isinstance(worker["id"], str) and worker["type"] == "image" and worker["maintenance_mode"] is False
    status, by_name = await api.send("GET", "/api/v2/workers/name/My%20%20Worker%20%20With%20Spaces%2001")
    assert status == 200 and by_name["id"] == worker["id"] and by_name["name"] == name
    # reGen's own start-up: look itself up, then make sure it is not in maintenance
    status, out = await api.send("PUT", f"/api/v2/workers/{worker['id']}", {"maintenance": False},
                                 {"apikey": wkey})
    assert status == 200 and out == {"maintenance": False}
    status, who = await api.send("GET", "/api/v2/find_user", headers={"apikey": wkey})
    assert status == 200 and who["worker_ids"] == [worker["id"]] and who["worker_count"] == 1


async def test_user_serving_its_own_request_is_still_rewarded(service: HordeService, server, api,
                                                              make_user) -> None:
    user, key = await make_user("selfserve", kudos=100)
    rid = await api.request(key)
    pop = await api.pop(key, old_pop("Self Worker"))
    assert pop["id"] is not None
    status, out = await api.submit(key, {"id": pop["id"], "generation": b64_webp(), "state": "ok", "seed": "5"})
    assert status == 200 and out["reward"] > 0
    assert out["reward"] == 10.0
    _, check = await api.send("GET", f"/api/v2/generate/check/{rid}")
    assert check["done"] is True and check["finished"] == 1
    _, who = await api.send("GET", "/api/v2/find_user", headers={"apikey": key})
    assert who["kudos"] == 100 - 13 + 10


async def test_32_concurrent_first_pops_of_one_new_worker(service: HordeService, server, api, make_user) -> None:
    owner, wkey = await make_user("swarm")
    results = await asyncio.gather(*[
        api.send("POST", "/api/v2/generate/pop", old_pop("Brand New Worker"), {"apikey": wkey})
        for _ in range(32)])
    assert [status for status, _ in results] == [200] * 32, [out for status, out in results if status != 200]
    assert all(out["id"] is None and out["ids"] == [] for _, out in results)
    async with service.db.read() as conn:
        workers = await workers_repo.listing(conn, owner_id=owner.id)
    assert [w.name for w in workers] == ["Brand New Worker"]


async def test_empty_seed_means_random(service: HordeService, server, api, make_user) -> None:
    _, rkey = await make_user("seedless", kudos=200)
    _, wkey = await make_user("gpu")
    for _ in range(2):
        await api.request(rkey, {"prompt": "p", "params": {"seed": "", "n": 1}})
    seeds = []
    for _ in range(2):
        pop = await api.pop(wkey, old_pop("Seed Worker"))
        seed = pop["payload"]["seed"]
        assert isinstance(seed, str) and seed.isdigit()
        seeds.append(seed)
        status, _ = await api.submit(wkey, {"id": pop["id"], "generation": b64_webp()})
        assert status == 200
    assert seeds[0] != seeds[1]


async def test_unknown_legacy_fields_are_ignored(service: HordeService, server, api, make_user) -> None:
    _, rkey = await make_user("legacy", kudos=100)
    _, wkey = await make_user("gpu")
    body = {"prompt": "p", "use_default_badwordsids": True, "sampler": "k_euler", "disable_batching": True,
            "params": {"steps": 20, "sampler": "k_euler", "disable_batching": True, "use_default_badwordsids": True,
                       "min_p": 0.1, "smoothing_factor": 0.2, "dynatemp_range": 1, "singleline": True},
            "models": ["stable_diffusion"]}
    rid = await api.request(rkey, body)
    pop = await api.pop(wkey, old_pop("Legacy Worker", disable_batching=True, some_future_flag=1))
    assert pop["payload"]["ddim_steps"] == 20
    assert not {"sampler", "disable_batching", "use_default_badwordsids", "min_p"} & set(pop["payload"])
    status, out = await api.submit(wkey, {"id": pop["id"], "generation": b64_webp(), "seed": 7,
                                          "unknown_submit_field": "x"})
    assert status == 200 and out["reward"] > 0
    _, final = await api.send("GET", f"/api/v2/generate/status/{rid}")
    assert final["generations"][0]["seed"] == "7"


@pytest.mark.parametrize("targeting", [{}, {"models": []}, {"workers": []}, {"models": [], "workers": []}])
async def test_request_without_models_goes_to_any_worker(service: HordeService, server, api, make_user,
                                                         targeting) -> None:
    _, rkey = await make_user("anymodel", kudos=100)
    _, wkey = await make_user("gpu")
    rid = await api.request(rkey, {"prompt": "p", **targeting})
    pop = await api.pop(wkey, old_pop("Deliberate Worker", models=["Deliberate"]))
    assert pop["id"] is not None and pop["model"] == "Deliberate"
    status, _ = await api.submit(wkey, {"id": pop["id"], "generation": b64_webp()})
    assert status == 200
    _, final = await api.send("GET", f"/api/v2/generate/status/{rid}")
    assert final["generations"][0]["model"] == "Deliberate"


async def test_r2_put_answers_200_without_apikey_or_content_type(service: HordeService, server, api,
                                                                 make_user) -> None:
    _, rkey = await make_user("requester", kudos=100)
    _, wkey = await make_user("gpu")
    await api.request(rkey)
    pop = await api.pop(wkey, old_pop("Put Worker"))
    url = pop["r2_upload"]
    assert "?" in url  # signed: the URL is the permission
    status, _ = await raw_put(url, b"\x00\x01 not an image at all")
    assert status == 200
    # tampering with the signature is refused, and does not replace the upload
    bad = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    status, _ = await raw_put(bad, b"evil")
    assert status == 403
    status, out = await api.submit(wkey, {"id": pop["id"], "generation": "R2"})
    assert status == 200, out


async def test_check_status_and_delete_need_no_apikey(service: HordeService, server, api, make_user) -> None:
    _, rkey = await make_user("requester", kudos=100)
    rid = await api.request(rkey, {"prompt": "p", "params": {"n": 2}})
    status, check = await api.send("GET", f"/api/v2/generate/check/{rid}")
    assert status == 200
    assert check["waiting"] == 2 and check["done"] is False and check["wait_time"] >= 1
    assert isinstance(check["queue_position"], int) and isinstance(check["kudos"], float)
    assert check["faulted"] is False and check["is_possible"] is False  # no worker at all
    assert set(check) == {"finished", "processing", "restarted", "waiting", "done", "faulted", "wait_time",
                          "queue_position", "kudos", "is_possible"}
    status, st = await api.send("GET", f"/api/v2/generate/status/{rid}")
    assert status == 200 and st["generations"] == [] and st["shared"] is False
    status, gone = await api.send("DELETE", f"/api/v2/generate/status/{rid}")
    assert status == 200 and gone["waiting"] == 0 and gone["done"] is True
    _, who = await api.send("GET", "/api/v2/find_user", headers={"apikey": rkey})
    assert who["kudos"] == 100


@pytest.mark.parametrize("request_id", [str(uuid.uuid4()), "not-a-uuid", "12345"])
@pytest.mark.parametrize("method,path", [("GET", "check"), ("GET", "status"), ("DELETE", "status")])
async def test_unknown_request_ids_are_404_request_not_found(service: HordeService, server, api, method, path,
                                                             request_id) -> None:
    status, out = await api.send(method, f"/api/v2/generate/{path}/{request_id}")
    assert status == 404
    assert out["rc"] == "RequestNotFound" and isinstance(out["message"], str)


async def test_source_image_reaches_an_http_worker_as_base64(service: HordeService, server, api,
                                                             make_user) -> None:
    """Old workers expect base64 unless source_image is an https URL; our test server is plain http."""
    _, rkey = await make_user("img2img", kudos=100)
    _, wkey = await make_user("gpu")
    png = io.BytesIO()
    Image.new("RGB", (64, 64), (9, 9, 200)).save(png, format="PNG")
    await api.request(rkey, {"prompt": "p", "source_image": base64.b64encode(png.getvalue()).decode(),
                             "source_processing": "img2img", "params": {"denoising_strength": 0.5}})
    pop = await api.pop(wkey, old_pop("Img2img Worker"))
    assert pop["id"] is not None
    source = Image.open(io.BytesIO(base64.b64decode(pop["source_image"])))
    assert source.size == (64, 64)
    pixel = source.convert("RGB").getpixel((2, 2))  # stored as lossy WebP: close, not exact
    assert all(abs(a - b) <= 4 for a, b in zip(pixel, (9, 9, 200), strict=True)), pixel
    assert pop["source_processing"] == "img2img"
    assert pop["payload"]["denoising_strength"] == 0.5


async def test_expired_request_answers_404(service: HordeService, server, api, make_user, clock) -> None:
    _, rkey = await make_user("requester", kudos=100)
    rid = await api.request(rkey)
    clock.advance(service.config.core.request_expiry + 1)
    done = await service.sweep()
    assert done["expired"] == 1
    for method, path in (("GET", "check"), ("GET", "status"), ("DELETE", "status")):
        status, out = await api.send(method, f"/api/v2/generate/{path}/{rid}")
        assert status == 404 and out["rc"] == "RequestNotFound", (method, path, out)
    _, who = await api.send("GET", "/api/v2/find_user", headers={"apikey": rkey})
    assert who["kudos"] == 100


async def test_late_submit_after_the_ttl_is_aborted_gen(service: HordeService, server, api, make_user,
                                                        clock) -> None:
    _, rkey = await make_user("requester", kudos=100)
    _, wkey = await make_user("slow gpu")
    rid = await api.request(rkey)
    pop = await api.pop(wkey, old_pop("Slow Worker"))
    assert pop["ttl"] == service.config.core.image_job_ttl
    clock.advance(pop["ttl"] + 1)
    assert (await service.sweep())["aborted"] == 1
    status, out = await api.submit(wkey, {"id": pop["id"], "generation": b64_webp()})
    assert status == 400 and out["rc"] == "AbortedGen", out
    _, check = await api.send("GET", f"/api/v2/generate/check/{rid}")
    assert check["waiting"] == 1 and check["restarted"] == 1 and check["finished"] == 0
    again = await api.pop(wkey, old_pop("Slow Worker"))
    assert again["id"] and again["id"] != pop["id"]  # retried under a new id, as AI Horde does
    status, out = await api.submit(wkey, {"id": again["id"], "generation": b64_webp()})
    assert status == 200 and out["reward"] == 10.0
    status, out = await api.submit(wkey, {"id": again["id"], "generation": b64_webp()})
    assert status == 400 and out["rc"] == "DuplicateGen"


async def test_one_job_goes_to_exactly_one_of_many_polling_workers(service: HordeService, server, api,
                                                                   make_user) -> None:
    _, rkey = await make_user("requester", kudos=100)
    keys = [(await make_user(f"gpu{i}"))[1] for i in range(8)]
    for i, key in enumerate(keys):  # every worker registered and idle first
        assert (await api.pop(key, old_pop(f"Racer {i}")))["id"] is None
    await api.request(rkey)
    results = await asyncio.gather(*[api.send("POST", "/api/v2/generate/pop", old_pop(f"Racer {i}"),
                                              {"apikey": key}) for i, key in enumerate(keys)])
    assert [status for status, _ in results] == [200] * 8
    winners = [out for _, out in results if out["id"] is not None]
    assert len(winners) == 1
    assert all(out.get("model") is None and out["ids"] == [] for _, out in results if out["id"] is None)


async def test_model_status_by_name_with_slash_encoded_twice(service: HordeService, server, api,
                                                             make_user) -> None:
    from yarl import URL

    _, wkey = await make_user("gpu")
    await api.pop(wkey, old_pop("Custom Worker", models=["someorg/My Model-v2"]))
    for encoded in ("someorg%2FMy%20Model-v2", "someorg%252FMy%2520Model-v2", "someorg/My%20Model-v2"):
        async with api.http.get(URL(api.url("/api/v2/status/models/") + encoded, encoded=True)) as r:
            assert r.status == 200
            body = await r.json()
        assert [m["name"] for m in body] == ["someorg/My Model-v2"], encoded
        assert body[0]["type"] == "image" and body[0]["count"] == 1 and isinstance(body[0]["eta"], int)


async def test_errors_are_json_with_message_and_rc(service: HordeService, server, api, make_user) -> None:
    _, key = await make_user("clumsy", kudos=100)
    async with api.http.post(api.url("/api/v2/generate/async"), data=b"{not json", headers={"apikey": key}) as r:
        assert r.status == 400
        body = await r.json()
    assert set(body) >= {"message", "rc"} and body["rc"] == "InvalidJSON"
    status, body = await api.send("POST", "/api/v2/generate/async", {"prompt": "p", "params": {"width": 500}},
                                  {"apikey": key})
    assert status == 400 and isinstance(body["message"], str) and body["rc"]
    assert "params.width" in body.get("errors", {})
    status, body = await api.send("POST", "/api/v2/generate/pop", old_pop("Anon Worker"))  # no key: anonymous
    assert 400 <= status < 500 and body["rc"] in {"AnonForbidden", "InvalidAPIKey"}
    status, body = await api.send("POST", "/api/v2/generate/pop", old_pop("Bad Key Worker"), {"apikey": "y" * 22})
    assert status == 401 and body["rc"] == "InvalidAPIKey"
    status, body = await api.send("GET", "/api/v2/workers/00000000-0000-0000-0000-000000000000")
    assert status == 404 and body["rc"] == "WorkerNotFound"


async def test_a_request_that_keeps_failing_is_faulted_and_done(service: HordeService, server, api,
                                                                make_user) -> None:
    """The SDK stops polling on `done`; a faulted request must say done, faulted, and refund its kudos."""
    _, rkey = await make_user("requester", kudos=100)
    _, wkey = await make_user("broken gpu")
    rid = await api.request(rkey, {"prompt": "p", "params": {"n": 2}})
    faults = 0
    for _ in range(10):
        pop = await api.pop(wkey, old_pop("Broken Worker"))
        if pop["id"] is None:
            break
        status, out = await api.submit(wkey, {"id": pop["id"], "generation": "Faulted", "state": "faulted",
                                              "seed": pop["payload"]["seed"]})
        assert status == 200 and out == {"reward": 0.0}
        faults += 1
    assert faults == service.config.core.max_job_faults + 1
    status, check = await api.send("GET", f"/api/v2/generate/check/{rid}")
    assert status == 200
    assert check["faulted"] is True and check["done"] is True
    assert check["waiting"] == 0 and check["processing"] == 0 and check["finished"] == 0
    _, final = await api.send("GET", f"/api/v2/generate/status/{rid}")
    assert final["faulted"] is True and final["generations"] == []
    _, who = await api.send("GET", "/api/v2/find_user", headers={"apikey": rkey})
    assert who["kudos"] == 100
