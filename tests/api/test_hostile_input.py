"""Hostile input on every route answers 4xx `{"message", "rc"}`: never a 500, on SQLite and PostgreSQL.

What a fuzzer and an attacker sent: bodies that are not UTF-8, JSON nested 100,000 deep, numbers too big
for any field (1e30, 2**70, Infinity, NaN, 5,000 digits), NUL bytes in strings (PostgreSQL refuses them),
amounts that are not whole numbers, and malformed names under /api/v2/r2/.
"""

from __future__ import annotations

import json
import uuid

import aiohttp
import pytest
from yarl import URL

from horde_core.service import HordeService
from tests.helpers import balance

POST_ROUTES = [
    "/api/v2/generate/async", "/api/v2/generate/pop", "/api/v2/generate/submit",
    "/api/v2/generate/text/async", "/api/v2/generate/text/pop", "/api/v2/generate/text/submit",
    "/api/v2/interrogate/async", "/api/v2/interrogate/pop", "/api/v2/interrogate/submit",
    f"/api/v2/generate/rate/{uuid.uuid4()}", f"/api/v2/ratings/{uuid.uuid4()}", "/api/v2/kudos/transfer",
]

HOSTILE_BODIES = {
    "not utf-8": b'{"prompt": "\xff\xfe\xfd", "name": "\xc3\x28"}',
    "nested 100000 deep": b'{"prompt": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "nested 500 deep": b'{"prompt": "x", "params": ' + b'{"a": ' * 500 + b"1" + b"}" * 500 + b"}",
    "NaN": b'{"prompt": "x", "name": "w", "amount": NaN, "params": {"cfg_scale": NaN}}',
    "Infinity": b'{"prompt": "x", "name": "w", "amount": Infinity, "params": {"steps": Infinity}}',
    "1e400": b'{"prompt": "x", "name": "w", "amount": 1e400, "params": {"cfg_scale": 1e400}}',
    "5000-digit number": b'{"prompt": "x", "name": "w", "id": "x", "amount": ' + b"9" * 5000 + b"}",
    "5000-digit seed": b'{"prompt": "x", "name": "w", "id": "x", "seed": ' + b"7" * 5000 + b', "params": {"seed": '
                       + b"7" * 5000 + b"}}",
    "NUL everywhere": b'{"prompt": "a\\u0000b", "name": "w\\u0000", "id": "\\u0000", "username": "u\\u0000",'
                      b' "generation": "\\u0000", "forms": [{"name": "caption\\u0000"}], "source_image": "\\u0000",'
                      b' "models": ["m\\u0000"], "\\u0000key": 1}',
    "lone surrogates": b'{"prompt": "a\\ud800", "name": "w\\udfff", "id": "\\ud800", "username": "\\ud800#1",'
                       b' "models": ["\\udb7f\\udfe5\\ud9a2"], "forms": ["caption"], "source_image": "\\ud800"}',
}


def _raw(server, path: str) -> URL:  # type: ignore[no-untyped-def]
    """The URL exactly as written (percent escapes kept), as a hostile client sends it."""
    return URL(str(server.make_url("/")).rstrip("/") + path, encoded=True)


async def _send(http: aiohttp.ClientSession, url: str, key: str, data: bytes, method: str = "POST") -> tuple[int, dict]:  # type: ignore[type-arg]
    async with http.request(method, url, headers={"apikey": key, "Content-Type": "application/json"},
                            data=data) as r:
        body = await r.json(content_type=None)
        return r.status, body


@pytest.mark.parametrize("hostile", list(HOSTILE_BODIES))
async def test_every_post_route_refuses_hostile_bodies(service: HordeService, server, make_user,
                                                       hostile: str) -> None:
    user, key = await make_user(kudos=100)
    async with aiohttp.ClientSession() as http:
        for path in [*POST_ROUTES, "/api/v2/workers/" + str(uuid.uuid4())]:
            method = "PUT" if path.startswith("/api/v2/workers/") else "POST"
            status, out = await _send(http, str(server.make_url(path)), key, HOSTILE_BODIES[hostile], method)
            assert 400 <= status < 500, (hostile, path, status, out)
            assert isinstance(out.get("message"), str) and isinstance(out.get("rc"), str), (hostile, path, out)
    assert await balance(service, user) == 100


async def test_names_with_digits_int_refuses_are_unknown_names(service: HordeService, server, make_user) -> None:
    """"¹".isdigit() is true but int("¹") raises: such names are names nobody has, never a 500."""
    user, key = await make_user(kudos=100)
    odd = ["¹", "x#²", "³⁴", "#⑫"]
    async with aiohttp.ClientSession() as http:
        for path in ("/api/v2/generate/pop", "/api/v2/generate/text/pop", "/api/v2/interrogate/pop"):
            body = {"name": f"w-{path.split('/')[-2]}", "priority_usernames": odd, "forms": ["caption"],
                    "models": ["Deliberate"]}
            async with http.post(str(server.make_url(path)), json=body, headers={"apikey": key}) as r:
                assert r.status == 200, (path, r.status, await r.text())
        for name in odd:
            status, out = await _send(http, str(server.make_url("/api/v2/kudos/transfer")), key,
                                      json.dumps({"username": name, "amount": 1}).encode())
            assert 400 <= status < 500 and isinstance(out.get("rc"), str), (name, status, out)
    assert await balance(service, user) == 100


@pytest.mark.parametrize("amount", ["1e30", str(2**70), "Infinity", '"10"', "true", "10.5", "0", "-3", "null"])
async def test_transfer_amounts_are_whole_numbers_within_bounds(service: HordeService, server, make_user,
                                                                amount: str) -> None:
    sender, key = await make_user("sender", kudos=100)
    recipient, _ = await make_user("recipient")
    body = f'{{"username": "recipient#{recipient.id}", "amount": {amount}}}'.encode()
    async with aiohttp.ClientSession() as http:
        status, out = await _send(http, str(server.make_url("/api/v2/kudos/transfer")), key, body)
        assert status == 400 and out["rc"] in ("ValidationError", "KudosValidationError", "InvalidJSON"), out
        for good in ("10", "10.0"):  # horde-sdk sends the amount as a float
            body = f'{{"username": "recipient#{recipient.id}", "amount": {good}}}'.encode()
            status, out = await _send(http, str(server.make_url("/api/v2/kudos/transfer")), key, body)
            assert status == 200 and out == {"transferred": 10.0}, out
    assert await balance(service, sender) == 80


@pytest.mark.parametrize("seed", ['"' + "7" * 5000 + '"', "7" * 5000, '"²"', '"٣٣"', '"-5"',
                                  '"12345678901234567890123"'])
async def test_seeds_never_cause_a_server_error(service: HordeService, server, make_user, seed: str) -> None:
    _, key = await make_user(kudos=100)
    body = f'{{"prompt": "a fox", "params": {{"seed": {seed}}}}}'.encode()
    async with aiohttp.ClientSession() as http:
        status, out = await _send(http, str(server.make_url("/api/v2/generate/async")), key, body)
    assert status in (202, 400), out
    if len(seed) > 1000:
        assert status == 400 and out["rc"] in ("ValidationError", "InvalidJSON"), out


async def test_nul_bytes_in_strings_are_refused_with_a_field(service: HordeService, server, make_user) -> None:
    """PostgreSQL cannot store NUL in text: answered 500 there before."""
    _, key = await make_user(kudos=100)
    cases = [("/api/v2/generate/async", b'{"prompt": "a\\u0000b"}'),
             ("/api/v2/generate/text/async", b'{"prompt": "a\\u0000b"}'),
             ("/api/v2/generate/pop", b'{"name": "w\\u0000x", "models": ["stable_diffusion"]}'),
             ("/api/v2/generate/text/pop", b'{"name": "w\\u0000x"}'),
             ("/api/v2/interrogate/pop", b'{"name": "w\\u0000x", "forms": ["caption"]}'),
             ("/api/v2/kudos/transfer", b'{"username": "a\\u0000#1", "amount": 1}')]
    async with aiohttp.ClientSession() as http:
        for path, body in cases:
            status, out = await _send(http, str(server.make_url(path)), key, body)
            assert (status, out["rc"]) == (400, "InvalidCharacters"), (path, out)
        for path in ("/api/v2/workers/name/a%00b", "/api/v2/users/1%00", "/api/v2/generate/status/a%00",
                     "/api/v2/workers?type=image%00", "/api/v2/status/models/x%00y"):
            async with http.get(_raw(server, path)) as r:
                assert 400 <= r.status < 500 and "rc" in await r.json(), path


@pytest.mark.parametrize("path", [
    "/api/v2/r2/img/------------------------------------.webp?exp=%C2%B2&sig=x",
    "/api/v2/r2/img/------------------------------------.webp?exp=99999999999&sig=%C3%A9%C3%A9",
    "/api/v2/r2/img/------------------------------------.webp?exp=99999999999999999999999999999999&sig=aa",
    "/api/v2/r2/img/------------------------------------.webp?exp=" + "9" * 5000 + "&sig=aa",
    "/api/v2/r2/img/" + "0" * 36 + ".webp",
    "/api/v2/r2/img/..%2F..%2Fhorde.db",
    "/api/v2/r2/upload/..%2Fx?exp=1&sig=x",
    "/api/v2/r2/upload/" + "a" * 300,
])
async def test_malformed_r2_names_answer_4xx(service: HordeService, server, path: str) -> None:
    async with aiohttp.ClientSession() as http:
        for method in ("GET", "PUT"):
            async with http.request(method, _raw(server, path), data=b"x") as r:
                assert 400 <= r.status < 500, (method, path, r.status, await r.text())
                assert "rc" in await r.json(content_type=None)
