"""Shared keys over real HTTP: they act as their owner for generation requests only, within their allowance,
expiry and caps; the allowance is spent atomically and refunded jobs give it back."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from horde_core.clock import FakeClock
from horde_core.service import HordeError, HordeService
from tests.helpers import assert_books_balance, balance, image_request

FOX = {"prompt": "a red fox in snow", "params": {"width": 512, "height": 512, "steps": 20}}


async def _call(http: aiohttp.ClientSession, method: str, url: Any, key: str | None = None,
                body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"apikey": key} if key else {}
    async with http.request(method, url, headers=headers, json=body) as r:
        return r.status, await r.json()


async def test_a_shared_key_spends_its_owners_kudos_within_its_allowance(service: HordeService, server,
                                                                         make_user) -> None:
    owner, okey = await make_user("lender", kudos=1000)
    url = server.make_url
    async with aiohttp.ClientSession() as http:
        status, created = await _call(http, "PUT", url("/api/v2/sharedkeys"), okey,
                                      {"kudos": 50, "name": "Mutual Aid"})
        assert status == 200
        key = created["id"]
        assert created == {"id": key, "username": f"lender#{owner.id}", "name": "Mutual Aid", "kudos": 50,
                           "utilized": 0, "max_image_pixels": -1, "max_image_steps": -1, "max_text_tokens": -1}
        status, accepted = await _call(http, "POST", url("/api/v2/generate/async"), key, FOX)
        assert status == 202
        price = int(accepted["kudos"])
        assert 0 < price <= 50
        assert await balance(service, owner) == 1000 - price  # the owner pays
        status, details = await _call(http, "GET", url(f"/api/v2/sharedkeys/{key}"))  # no API key needed
        assert status == 200 and details["kudos"] == 50 - price and details["utilized"] == price
        status, upper = await _call(http, "GET", url(f"/api/v2/sharedkeys/{key.upper()}"))  # a UUID, however written
        assert status == 200 and upper["utilized"] == price

        # A request the rest of the allowance cannot pay is refused, and nothing is taken.
        greedy = {**FOX, "params": {**FOX["params"], "n": 10}}
        status, refused = await _call(http, "POST", url("/api/v2/generate/async"), key, greedy)
        assert status == 403 and refused["rc"] == "SharedKeyInsufficientKudos"
        assert await balance(service, owner) == 1000 - price
        # With allow_downgrade, a request the allowance cannot pay is shrunk as AI Horde shrinks it instead.
        dry = {**FOX, "params": {**FOX["params"], "width": 1024, "height": 1024, "steps": 50, "n": 2},
               "dry_run": True}
        status, full = await _call(http, "POST", url("/api/v2/generate/async"), key, dry)
        assert status == 200 and full["kudos"] > 50 - price
        status, shrunk = await _call(http, "POST", url("/api/v2/generate/async"), key, {**dry, "allow_downgrade": True})
        assert status == 200 and shrunk["kudos"] <= 50 - price

        # Cancelling gives the kudos back to the owner and to the key's allowance.
        status, _ = await _call(http, "DELETE", url(f"/api/v2/generate/status/{accepted['id']}"))
        assert status == 200
        assert await balance(service, owner) == 1000
        status, details = await _call(http, "GET", url(f"/api/v2/sharedkeys/{key}"))
        assert details["kudos"] == 50 and details["utilized"] == 0

        # An emptied key says so.
        status, _ = await _call(http, "PATCH", url(f"/api/v2/sharedkeys/{key}"), okey, {"kudos": 0})
        assert status == 200
        status, refused = await _call(http, "POST", url("/api/v2/generate/async"), key, FOX)
        assert status == 403 and refused["rc"] == "SharedKeyEmpty"
    await assert_books_balance(service)


async def test_expiry_and_caps(service: HordeService, server, make_user, clock: FakeClock) -> None:
    _, okey = await make_user("lender", kudos=1000)
    url = server.make_url
    async with aiohttp.ClientSession() as http:
        _, created = await _call(http, "PUT", url("/api/v2/sharedkeys"), okey,
                                 {"kudos": -1, "expiry": 1, "max_image_steps": 20, "max_image_pixels": 262144,
                                  "max_text_tokens": 100})
        key = created["id"]
        assert created["kudos"] == -1 and "expiry" in created
        steps = {**FOX, "params": {**FOX["params"], "steps": 30}}
        status, refused = await _call(http, "POST", url("/api/v2/generate/async"), key, steps)
        assert status == 400 and "20 steps" in refused["message"]
        wide = {**FOX, "params": {**FOX["params"], "width": 1024}}
        status, refused = await _call(http, "POST", url("/api/v2/generate/async"), key, wide)
        assert status == 400 and "pixels" in refused["message"]
        text = {"prompt": "Once", "params": {"max_length": 120}}
        status, refused = await _call(http, "POST", url("/api/v2/generate/text/async"), key, text)
        assert status == 400 and "tokens" in refused["message"]
        status, ok = await _call(http, "POST", url("/api/v2/generate/async"), key, FOX)
        assert status == 202
        status, details = await _call(http, "GET", url(f"/api/v2/sharedkeys/{key}"))
        assert details["kudos"] == -1 and details["utilized"] == int(ok["kudos"])  # unlimited stays unlimited

        clock.advance(86400 + 1)
        status, refused = await _call(http, "POST", url("/api/v2/generate/async"), key, FOX)
        assert status == 403 and refused["rc"] == "SharedKeyExpired"
        # The owner may extend it again.
        status, _ = await _call(http, "PATCH", url(f"/api/v2/sharedkeys/{key}"), okey, {"expiry": -1})
        assert status == 200
        status, _ = await _call(http, "POST", url("/api/v2/generate/async"), key, FOX)
        assert status == 202


async def test_a_shared_key_is_no_api_key_anywhere_else(service: HordeService, server, make_user) -> None:
    owner, okey = await make_user("lender", kudos=1000)
    _, other = await make_user("stranger", kudos=10)
    url = server.make_url
    async with aiohttp.ClientSession() as http:
        _, created = await _call(http, "PUT", url("/api/v2/sharedkeys"), okey, {"kudos": 100})
        key = created["id"]
        pop = {"name": "Lent Box", "models": ["stable_diffusion"]}
        for method, path, body in (("POST", "/api/v2/generate/pop", pop),
                                   ("POST", "/api/v2/generate/text/pop", pop),
                                   ("POST", "/api/v2/interrogate/pop", {"name": "x", "forms": ["caption"]}),
                                   ("POST", "/api/v2/kudos/transfer", {"username": "stranger", "amount": 5}),
                                   ("PUT", "/api/v2/sharedkeys", {"kudos": 5}),
                                   ("PATCH", f"/api/v2/sharedkeys/{key}", {"kudos": 5000}),
                                   ("DELETE", f"/api/v2/sharedkeys/{key}", None)):
            status, refused = await _call(http, method, url(path), key, body)
            assert (status, refused["rc"]) == (401, "InvalidAPIKey"), path
        assert await balance(service, owner) == 1000

        status, refused = await _call(http, "PATCH", url(f"/api/v2/sharedkeys/{key}"), other, {"kudos": 5})
        assert status == 403
        status, refused = await _call(http, "PATCH", url(f"/api/v2/sharedkeys/{key}"), okey, {})
        assert (status, refused["rc"]) == (400, "NoSharedKeyModSelected")
        status, refused = await _call(http, "PUT", url("/api/v2/sharedkeys"), okey, {"kudos": -2})
        assert status == 400
        status, refused = await _call(http, "GET", url("/api/v2/sharedkeys/00000000-0000-0000-0000-000000000000"))
        assert (status, refused["rc"]) == (401, "InvalidAPIKey")

        # A deleted key stops working at once (the auth cache forgets it).
        status, _ = await _call(http, "POST", url("/api/v2/generate/async"), key, FOX)
        assert status == 202
        status, deleted = await _call(http, "DELETE", url(f"/api/v2/sharedkeys/{key}"), okey)
        assert (status, deleted) == (200, {"message": "OK"})
        status, refused = await _call(http, "POST", url("/api/v2/generate/async"), key, FOX)
        assert (status, refused["rc"]) == (401, "InvalidAPIKey")

        # Three keys per user (ten when trusted).
        for _ in range(3):
            status, _ = await _call(http, "PUT", url("/api/v2/sharedkeys"), okey, {})
            assert status == 200
        status, refused = await _call(http, "PUT", url("/api/v2/sharedkeys"), okey, {})
        assert status == 403


async def test_simultaneous_requests_never_overspend_a_key(service: HordeService, make_user) -> None:
    owner, okey = await make_user("lender", kudos=100_000, concurrency=1000)
    lender = await service.authenticate(okey)
    spec = image_request(params={"width": 512, "height": 512, "steps": 20})
    price = (await service.request_images(lender, image_request(dry_run=True,
                                                                params=spec.params.model_dump()))).kudos
    from horde_core.service.sharing_specs import SharedKeySpec

    created = await service.create_shared_key(lender, SharedKeySpec(kudos=price * 10 + price // 2))
    holder = await service.authenticate(created.id, allow_shared=True)
    assert holder.id == owner.id and holder.shared_key is not None

    async def one() -> bool:
        try:
            await service.request_images(holder, spec)
        except HordeError as exc:
            assert exc.rc == "SharedKeyInsufficientKudos", exc.message
            return False
        return True

    results = await asyncio.gather(*(one() for _ in range(200)))
    assert sum(results) == 10
    after = await service.shared_key(created.id)
    assert after.utilized == price * 10 and after.kudos == price // 2
    assert await balance(service, owner) == 100_000 - price * 10
    await assert_books_balance(service)


async def test_kudos_sent_to_a_shared_key_reach_its_owner_and_its_allowance(service: HordeService, server,
                                                                            make_user, clock: FakeClock) -> None:
    owner, okey = await make_user("lender", kudos=100)
    friend, fkey = await make_user("friend", kudos=100)
    url = server.make_url
    async with aiohttp.ClientSession() as http:
        _, created = await _call(http, "PUT", url("/api/v2/sharedkeys"), okey, {"kudos": 10, "expiry": 2})
        key = created["id"]
        status, sent = await _call(http, "POST", url("/api/v2/kudos/transfer"), fkey, {"username": key, "amount": 30})
        assert (status, sent) == (200, {"transferred": 30.0})
        assert await balance(service, owner) == 130 and await balance(service, friend) == 70
        _, details = await _call(http, "GET", url(f"/api/v2/sharedkeys/{key}"))
        assert details["kudos"] == 40
        clock.advance(3 * 86400)
        status, refused = await _call(http, "POST", url("/api/v2/kudos/transfer"), fkey,
                                      {"username": key, "amount": 5})
        assert (status, refused["rc"]) == (403, "SharedKeyExpired")
        assert await balance(service, friend) == 70
    await assert_books_balance(service)
