"""Styles and collections over real HTTP: who may write them, their AI Horde shapes, and what a style does
to a generation request (template, parameters, models), priced once on the result."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

from horde_core.service import HordeService
from tests.helpers import balance

FLUX = "Flux.1-Schnell fp8 (Compact)"
STYLE = {"name": "noir", "info": "black and white, hard light", "prompt": "film noir, {p}, grain###{np}, colour",
         "params": {"steps": 12, "cfg_scale": 3.5, "sampler_name": "k_dpmpp_2m", "width": 768, "height": 640,
                    "loras": [{"name": "film grain", "model": 0.7}]},
         "models": [FLUX], "tags": ["photo", "noir"], "nsfw": False}


async def grant(service: HordeService, user_id: int, **roles: bool) -> None:
    """As the operator does it: `python main.py user role NAME --customizer`."""
    await service.set_user_roles_cli(str(user_id), **roles)


async def call(http: aiohttp.ClientSession, server: Any, method: str, path: str, key: str | None = None,
               json: Any = None) -> tuple[int, Any]:
    headers = {"apikey": key} if key else {}
    async with http.request(method, server.make_url(path), headers=headers, json=json) as r:
        return r.status, await r.json()


async def test_style_crud_and_roles(service: HordeService, server, make_user) -> None:
    maker, mkey = await make_user("maker")
    other, okey = await make_user("other")
    _, plain_key = await make_user("plain")
    mod, modkey = await make_user("mod")
    await grant(service, maker.id, customizer=True)
    await grant(service, other.id, customizer=True)
    await grant(service, mod.id, moderator=True)
    async with aiohttp.ClientSession() as http:
        status, body = await call(http, server, "POST", "/api/v2/styles/image", plain_key, STYLE)
        assert status == 403 and body["rc"] == "StylesRequiresCustomizer"
        status, body = await call(http, server, "POST", "/api/v2/styles/image", "0000000000", STYLE)
        assert status in (401, 403)
        status, body = await call(http, server, "POST", "/api/v2/styles/image", mkey,
                                  {**STYLE, "prompt": "no slot for the prompt"})
        assert status == 400 and body["rc"] == "StylePromptMissingVars"
        status, body = await call(http, server, "POST", "/api/v2/styles/image", mkey, {**STYLE, "models": []})
        assert status == 400 and "at least one model" in body["message"]

        status, made = await call(http, server, "POST", "/api/v2/styles/image", mkey, STYLE)
        assert status == 200 and made["message"] == "OK" and set(made) == {"id", "message", "warnings"}
        sid = made["id"]
        status, body = await call(http, server, "POST", "/api/v2/styles/image", mkey, STYLE)
        assert status == 400 and "already exists" in body["message"]

        status, got = await call(http, server, "GET", f"/api/v2/styles/image/{sid}")
        assert status == 200
        assert got == {"id": sid, "name": "noir", "info": STYLE["info"], "prompt": STYLE["prompt"],
                       "params": {**STYLE["params"], "loras": [{"name": "film grain", "model": 0.7}]},
                       "public": True, "nsfw": False, "tags": ["noir", "photo"], "models": [FLUX],
                       "use_count": 0, "creator": f"maker#{maker.id}", "examples": []}
        for name in ("noir", f"maker#{maker.id}::noir", f"style::maker#{maker.id}::noir", "style::noir"):
            status, byname = await call(http, server, "GET", f"/api/v2/styles/image_by_name/{quote(name, safe='')}")
            assert status == 200 and byname["id"] == sid, name
        status, body = await call(http, server, "GET", "/api/v2/styles/image_by_name/nothing")
        assert status == 404 and body["rc"] == "StyleNotFound"
        status, body = await call(http, server, "GET", f"/api/v2/styles/text/{sid}")
        assert status == 400 and body["rc"] == "StyleGetMistmatch"

        status, listed = await call(http, server, "GET", "/api/v2/styles/image?tag=noir")
        assert [s["id"] for s in listed] == [sid]
        for query in ("tag=colour", "model=stable_diffusion", "page=2"):
            status, listed = await call(http, server, "GET", f"/api/v2/styles/image?{query}")
            assert status == 200 and listed == [], query
        status, body = await call(http, server, "GET", "/api/v2/styles/image?sort=best")
        assert status == 400

        # Another customizer may not change it; its creator and a moderator may.
        status, body = await call(http, server, "PATCH", f"/api/v2/styles/image/{sid}", okey, {"info": "mine now"})
        assert status == 403 and body["rc"] == "Forbidden"
        status, body = await call(http, server, "PATCH", f"/api/v2/styles/image/{sid}", mkey,
                                  {"info": "sharper", "tags": ["bw"], "public": False})
        assert status == 200 and body["id"] == sid
        status, body = await call(http, server, "PATCH", f"/api/v2/styles/image/{sid}", modkey, {"nsfw": True})
        assert status == 200
        status, got = await call(http, server, "GET", f"/api/v2/styles/image/{sid}")
        assert (got["info"], got["tags"], got["public"], got["nsfw"]) == ("sharper", ["bw"], False, True)
        assert got["prompt"] == STYLE["prompt"] and got["models"] == [FLUX]
        status, listed = await call(http, server, "GET", "/api/v2/styles/image")
        assert listed == []  # private styles are not listed, but still found by id and name

        status, body = await call(http, server, "DELETE", f"/api/v2/styles/image/{sid}", okey)
        assert status == 403
        status, body = await call(http, server, "DELETE", f"/api/v2/styles/image/{sid}", modkey)
        assert status == 200 and body == {"message": "OK"}
        status, body = await call(http, server, "GET", f"/api/v2/styles/image/{sid}")
        assert status == 404 and body["rc"] == "StyleNotFound"


async def test_examples_of_an_image_style(service: HordeService, server, make_user, clock) -> None:
    maker, mkey = await make_user("maker")
    await grant(service, maker.id, customizer=True)
    async with aiohttp.ClientSession() as http:
        _, made = await call(http, server, "POST", "/api/v2/styles/image", mkey, STYLE)
        sid = made["id"]
        path = f"/api/v2/styles/image/{sid}/example"
        status, body = await call(http, server, "POST", path, mkey, {"url": "http://x.test/a.webp", "primary": True})
        assert status == 400
        ids = []
        for i in range(4):
            clock.advance(1)  # examples are listed oldest first
            status, body = await call(http, server, "POST", path, mkey,
                                      {"url": f"https://x.test/{i}.webp", "primary": i == 2})
            assert status == 200, body
            ids.append(body["id"])
        status, body = await call(http, server, "POST", path, mkey, {"url": "https://x.test/9.webp", "primary": False})
        assert status == 403 and body["rc"] == "TooManyStyleExamples"
        _, got = await call(http, server, "GET", f"/api/v2/styles/image/{sid}")
        assert [e["primary"] for e in got["examples"]] == [False, False, True, False]  # the first, then the 3rd
        status, body = await call(http, server, "PATCH", f"{path}/{ids[1]}", mkey, {"url": "https://x.test/0.webp"})
        assert status == 400 and body["rc"] == "ExampleURLAlreadyInUse"
        status, body = await call(http, server, "PATCH", f"{path}/{ids[1]}", mkey, {"primary": True})
        assert status == 200
        status, body = await call(http, server, "DELETE", f"{path}/{ids[1]}", mkey)
        assert status == 200
        _, got = await call(http, server, "GET", f"/api/v2/styles/image/{sid}")
        assert [(e["id"], e["primary"]) for e in got["examples"]] == [(ids[0], True), (ids[2], False),
                                                                       (ids[3], False)]


async def _pop(http: aiohttp.ClientSession, server: Any, wkey: str, models: list[str]) -> dict[str, Any]:
    status, pop = await call(http, server, "POST", "/api/v2/generate/pop", wkey,
                             {"name": "Styled Worker", "models": models, "amount": 4, "bridge_agent": "t:1:x",
                              "max_pixels": 1024 * 1024, "allow_lora": True})
    assert status == 200 and pop["id"], pop
    return pop


async def test_a_style_is_applied_exactly_and_priced_once(service: HordeService, server, make_user) -> None:
    maker, mkey = await make_user("maker")
    await grant(service, maker.id, customizer=True)
    user, ukey = await make_user("fan", kudos=1000)
    twin, tkey = await make_user("twin", kudos=1000)
    _, wkey = await make_user("gpu")
    service.config.core.allow_custom_models = True
    async with aiohttp.ClientSession() as http:
        _, made = await call(http, server, "POST", "/api/v2/styles/image", mkey, STYLE)
        styled = {"prompt": "a cat on a roof###blurry", "style": "noir",
                  "params": {"n": 2, "steps": 50, "cfg_scale": 9, "width": 512, "seed": "7"},
                  "models": ["stable_diffusion"]}
        status, accepted = await call(http, server, "POST", "/api/v2/generate/async", ukey, styled)
        assert status == 202, accepted
        # The same request written out by hand: the style's params, models and the filled template.
        by_hand = {"prompt": "film noir, a cat on a roof, grain###blurry, colour", "models": [FLUX],
                   "params": {**STYLE["params"], "n": 2, "seed": "7"}}
        status, manual = await call(http, server, "POST", "/api/v2/generate/async", tkey, by_hand)
        assert status == 202, manual
        assert accepted["kudos"] == manual["kudos"] > 0
        assert 1000 - await balance(service, user) == 1000 - await balance(service, twin) == accepted["kudos"]

        pops = [await _pop(http, server, wkey, [FLUX]) for _ in range(2)]
        payloads = {p["payload"]["prompt"]: p for p in pops}
        assert len(payloads) == 1  # both requests reached the worker with the same prompt
        for pop in pops:
            p = pop["payload"]
            assert p["prompt"] == "film noir, a cat on a roof, grain###blurry, colour"
            assert pop["model"] == FLUX
            assert (p["ddim_steps"], p["cfg_scale"], p["sampler_name"], p["width"], p["height"], p["n_iter"]) == (
                12, 3.5, "k_dpmpp_2m", 768, 640, 2)
            assert [(lo["name"], lo["model"]) for lo in p["loras"]] == [("film grain", 0.7)]
        assert {p["payload"]["seed"] for p in pops} <= {"7", "8"}  # the requester's seed is kept (7, then 8)
        _, got = await call(http, server, "GET", f"/api/v2/styles/image/{made['id']}")
        assert got["use_count"] == 1

        # A negative part lands in {np}; a style without size takes the requester's; dry runs are not counted.
        await call(http, server, "POST", "/api/v2/styles/image", mkey,
                   {"name": "plain", "prompt": "{p} | {np}", "params": {"steps": 20}, "models": ["stable_diffusion"]})
        status, dry = await call(http, server, "POST", "/api/v2/generate/async", ukey,
                                 {"prompt": "x###y", "style": "plain", "dry_run": True, "params": {"width": 1024}})
        status, hand = await call(http, server, "POST", "/api/v2/generate/async", ukey,
                                  {"prompt": "x | ###y", "dry_run": True, "models": ["stable_diffusion"],
                                   "params": {"width": 1024, "steps": 20}})
        assert dry["kudos"] == hand["kudos"]
        _, plain = await call(http, server, "GET", "/api/v2/styles/image_by_name/plain")
        assert plain["use_count"] == 0

        status, body = await call(http, server, "POST", "/api/v2/generate/async", ukey,
                                  {"prompt": "a cat", "style": "no such style"})
        assert status == 404 and body["rc"] == "StyleNotFound"
        assert 1000 - await balance(service, user) == accepted["kudos"]


async def test_text_styles_and_collections(service: HordeService, server, make_user) -> None:
    maker, mkey = await make_user("maker")
    await grant(service, maker.id, customizer=True)
    user, ukey = await make_user("reader", kudos=500)
    _, plain_key = await make_user("plain")
    _, wkey = await make_user("kobold")
    model = "koboldcpp/Mistral-7B-Instruct-v0.1"
    async with aiohttp.ClientSession() as http:
        status, made = await call(http, server, "POST", "/api/v2/styles/text", mkey,
                                  {"name": "pirate", "prompt": "Speak like a pirate. {p}", "models": [model],
                                   "params": {"max_length": 100, "max_context_length": 2048, "temperature": 0.4}})
        assert status == 200, made
        _, got = await call(http, server, "GET", "/api/v2/styles/text_by_name/pirate")
        assert "examples" not in got and got["params"]["temperature"] == 0.4
        status, body = await call(http, server, "POST", "/api/v2/generate/async", ukey,
                                  {"prompt": "hello", "style": "pirate"})
        assert status == 400 and body["rc"] == "StyleMismatch"

        # Collections: customizers only, one kind, by id and by name; naming one applies one of its styles.
        status, body = await call(http, server, "POST", "/api/v2/collections", plain_key,
                                  {"name": "sea", "styles": ["pirate"]})
        assert status == 403 and body["rc"] == "StylesRequiresCustomizer"
        status, body = await call(http, server, "POST", "/api/v2/collections", mkey,
                                  {"name": "sea", "styles": ["nothing"]})
        assert status == 400
        status, col = await call(http, server, "POST", "/api/v2/collections", mkey,
                                 {"name": "sea", "info": "salty", "styles": ["pirate"]})
        assert status == 200, col
        status, got = await call(http, server, "GET", f"/api/v2/collections/{col['id']}")
        assert got == {"id": col["id"], "name": "sea", "type": "text", "info": "salty", "public": True,
                       "use_count": 0, "creator": f"maker#{maker.id}",
                       "styles": [{"id": made["id"], "name": f"maker#{maker.id}::style::pirate"}]}
        status, byname = await call(http, server, "GET", "/api/v2/collection_by_name/sea")
        assert status == 200 and byname["id"] == col["id"]
        status, listed = await call(http, server, "GET", "/api/v2/collections?type=image")
        assert listed == []
        status, listed = await call(http, server, "GET", "/api/v2/collections?type=text")
        assert [c["id"] for c in listed] == [col["id"]]

        status, accepted = await call(http, server, "POST", "/api/v2/generate/text/async", ukey,
                                      {"prompt": "Where is the gold?", "style": "collection::sea",
                                       "params": {"max_length": 500, "n": 1}})
        assert status == 202, accepted
        status, manual = await call(http, server, "POST", "/api/v2/generate/text/async", ukey,
                                    {"prompt": "Speak like a pirate. Where is the gold?", "models": [model],
                                     "dry_run": True,
                                     "params": {"max_length": 100, "max_context_length": 2048, "temperature": 0.4}})
        assert accepted["kudos"] == manual["kudos"]
        status, pop = await call(http, server, "POST", "/api/v2/generate/text/pop", wkey,
                                 {"name": "Kobold", "models": [model], "max_length": 512, "max_context_length": 4096})
        assert pop["payload"]["prompt"] == "Speak like a pirate. Where is the gold?"
        assert (pop["payload"]["max_length"], pop["payload"]["temperature"]) == (100, 0.4)
        _, got = await call(http, server, "GET", f"/api/v2/collections/{col['id']}")
        assert got["use_count"] == 1

        status, body = await call(http, server, "PATCH", f"/api/v2/collections/{col['id']}", mkey,
                                  {"name": "ocean", "public": False})
        assert status == 200
        status, body = await call(http, server, "GET", "/api/v2/collection_by_name/ocean")
        assert status == 200 and body["public"] is False
        status, body = await call(http, server, "DELETE", f"/api/v2/collections/{col['id']}", mkey)
        assert status == 200
        status, body = await call(http, server, "GET", f"/api/v2/collections/{col['id']}")
        assert status == 404 and body["rc"] == "CollectionNotFound"
