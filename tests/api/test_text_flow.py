"""Text generation over real HTTP, in the exact shapes of the KoboldAI horde bridge."""

from __future__ import annotations

import aiohttp

from horde_core.ledger import pricing
from horde_core.service import HordeService
from tests.helpers import assert_books_balance, balance


async def test_kobold_bridge_round_trip(service: HordeService, server, make_user) -> None:
    requester, rkey = await make_user("writer", kudos=200)
    owner, wkey = await make_user("kobold")
    url = server.make_url
    async with aiohttp.ClientSession() as http:
        # The bridge indexes every key of an empty pop.
        async with http.post(url("/api/v2/generate/text/pop"), headers={"apikey": wkey},
                             json={"name": "Kobold Box", "models": ["koboldcpp/Mistral-7B-Instruct-v0.1"],
                                   "max_length": 512, "max_context_length": 4096, "priority_usernames": [],
                                   "softprompts": [], "bridge_agent": "KoboldAI Bridge:10:https://x"}) as r:
            empty = await r.json()
        assert r.status == 200
        assert empty["id"] is None and empty["ids"] == [] and empty["payload"] == {}
        assert "skipped" in empty and "softprompt" in empty

        big = {"prompt": "Once upon a time", "params": {"max_length": 200, "max_context_length": 8192}}
        async with http.post(url("/api/v2/generate/text/async"), headers={"apikey": rkey}, json=big) as r:
            too_big = await r.json()
        small = {"prompt": "Once upon a time", "models": ["koboldcpp/Mistral-7B-Instruct-v0.1"],
                 "params": {"max_length": 120, "max_context_length": 2048, "n": 2, "temperature": 0.7,
                            "min_p": 0.1, "dynatemp_range": 0, "singleline": False}}
        async with http.post(url("/api/v2/generate/text/async"), headers={"apikey": rkey}, json=small) as r:
            accepted = await r.json()
        assert r.status == 202
        cost = pricing.text_job_cost(120, 2048)
        assert accepted["kudos"] == (cost + 3) * 2

        async with http.post(url("/api/v2/generate/text/pop"), headers={"apikey": wkey},
                             json={"name": "Kobold Box", "models": ["koboldcpp/Mistral-7B-Instruct-v0.1"],
                                   "max_length": 512, "max_context_length": 4096}) as r:
            pop = await r.json()
        assert pop["id"] and pop["payload"]["prompt"] == "Once upon a time"
        assert pop["payload"]["max_length"] == 120 and pop["payload"]["temperature"] == 0.7
        assert pop["skipped"] == {} or pop["skipped"].get("max_context_length") == 1
        assert set(pop) >= {"id", "ids", "payload", "skipped", "softprompt"}

        # the 8k-context request is passed over, and says why
        async with http.post(url("/api/v2/generate/text/pop"), headers={"apikey": wkey},
                             json={"name": "Kobold Box", "models": ["koboldcpp/Mistral-7B-Instruct-v0.1"],
                                   "max_length": 512, "max_context_length": 4096}) as r:
            second = await r.json()
        assert second["id"] == accepted_job(second, pop)
        for job in (pop["id"], second["id"]):
            async with http.post(url("/api/v2/generate/text/submit"), headers={"apikey": wkey},
                                 json={"id": job, "generation": f" there was {job[:4]}"}) as r:
                assert r.status == 200 and (await r.json())["reward"] == cost
        async with http.post(url("/api/v2/generate/text/pop"), headers={"apikey": wkey},
                             json={"name": "Kobold Box", "models": ["koboldcpp/Mistral-7B-Instruct-v0.1"],
                                   "max_length": 512, "max_context_length": 4096}) as r:
            third = await r.json()
        assert third["id"] is None and third["skipped"] == {"max_context_length": 1}

        async with http.get(url(f"/api/v2/generate/text/status/{accepted['id']}")) as r:
            status = await r.json()
        assert status["done"] and len(status["generations"]) == 2
        gen = status["generations"][0]
        assert gen["text"].startswith(" there was") and isinstance(gen["seed"], int) and "id" not in gen
        # a text id is not an image id
        async with http.get(url(f"/api/v2/generate/status/{accepted['id']}")) as r:
            assert r.status == 404
        async with http.delete(url(f"/api/v2/generate/text/status/{too_big['id']}")) as r:
            assert r.status == 200
    assert await balance(service, requester) == 200 - (cost + 3) * 2
    assert await balance(service, owner) == cost * 2
    await assert_books_balance(service)


def accepted_job(second: dict, first: dict) -> str:  # type: ignore[type-arg]
    """The second pop gets the request's other job (one of n=2), never the first again."""
    assert second["id"] != first["id"]
    return second["id"]


async def test_text_bad_input(service: HordeService, server, make_user) -> None:
    _, key = await make_user(kudos=10)
    async with aiohttp.ClientSession() as http:
        async with http.post(server.make_url("/api/v2/generate/text/async"), headers={"apikey": key},
                             json={"prompt": "x", "params": {"max_length": 5000}}) as r:
            out = await r.json()
        assert r.status == 400 and "params.max_length" in out["errors"]
        async with http.post(server.make_url("/api/v2/generate/text/async"), headers={"apikey": key},
                             json={"prompt": "x", "dry_run": True, "params": {"max_length": 512,
                                                                             "max_context_length": 8192}}) as r:
            dry = await r.json()
        assert r.status == 200 and set(dry) == {"kudos"}
        assert dry["kudos"] == pricing.text_job_cost(512, 8192) + 3
        assert pricing.text_job_cost(512, 8192) > 4 * pricing.text_job_cost(512, 2048) / 2
