"""Logging in with an API key: the cookie, CSRF on every form, wrong keys rate limited, sessions that end."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from horde_core.clock import FakeClock
from horde_core.service import HordeService
from tests.helpers import pop_spec

from .conftest import NONCE, login


async def _attempt(site: TestClient, key: str) -> int:
    page = await (await site.get("/login")).text()
    nonce = NONCE.search(page)
    assert nonce
    r = await site.post("/login", data={"apikey": key, "login_nonce": nonce.group(1)}, allow_redirects=False)
    return r.status


async def test_login_sets_a_strict_cookie_and_shows_the_ledger(site: TestClient, service: HordeService,
                                                               make_user) -> None:  # type: ignore[no-untyped-def]
    user, key = await make_user("alice", kudos=120)
    page = await (await site.get("/login")).text()
    nonce = NONCE.search(page)
    assert nonce and key not in page
    r = await site.post("/login", data={"apikey": key, "login_nonce": nonce.group(1)}, allow_redirects=False)
    assert r.status == 303 and key not in r.headers["Location"]
    cookie = r.headers["Set-Cookie"]
    assert "horde_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert key not in cookie
    me = await site.get("/me")
    text = await me.text()
    assert me.status == 200 and "alice#" in text and 'id="kudos">120<' in text
    assert "starting balance" in text  # the ledger row of the minted starting kudos
    assert me.headers["Cache-Control"] == "no-store"


async def test_the_key_in_a_url_does_nothing(site: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    _, key = await make_user("alice")
    r = await site.get(f"/login?apikey={key}", allow_redirects=False)
    assert r.status == 200 and "horde_session" not in r.headers.get("Set-Cookie", "")
    assert (await site.get("/me", allow_redirects=False)).status == 303


async def test_forms_without_the_csrf_token_are_refused(site: TestClient, service: HordeService,
                                                        make_user) -> None:  # type: ignore[no-untyped-def]
    alice, key = await make_user("alice", kudos=100)
    bob, _ = await make_user("bob")
    csrf = await login(site, key)
    for data in ({"username": bob.display_name, "amount": "10"},
                 {"username": bob.display_name, "amount": "10", "csrf": "forged"}):
        r = await site.post("/me/transfer", data=data, allow_redirects=False)
        assert r.status == 403
    r = await site.post("/me/transfer", data={"username": bob.display_name, "amount": "10"},
                        headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert r.status == 403
    assert (await service.user_by_name(str(bob.id))).kudos == 0
    r = await site.post("/me/transfer", data={"username": bob.display_name, "amount": "10", "csrf": csrf},
                        allow_redirects=False)
    assert r.status == 303
    assert (await service.user_by_name(str(bob.id))).kudos == 10
    assert "-10" in await (await site.get("/me")).text()


async def test_login_without_the_form_nonce_is_refused(site: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    _, key = await make_user("alice")
    r = await site.post("/login", data={"apikey": key, "login_nonce": "guess"}, allow_redirects=False)
    assert r.status == 403
    assert (await site.get("/me", allow_redirects=False)).status == 303


async def test_ten_wrong_keys_are_rate_limited(site: TestClient, service: HordeService, clock: FakeClock,
                                               make_user) -> None:  # type: ignore[no-untyped-def]
    _, key = await make_user("alice")
    for _ in range(10):
        assert await _attempt(site, "not-a-key-0000") == 401
    assert await _attempt(site, "not-a-key-0000") == 429
    assert await _attempt(site, key) == 429  # even the right key waits: guessing stops here
    clock.advance(service.config.web.login_window + 1)
    assert await _attempt(site, key) == 303


async def test_worker_maintenance_switch_reaches_the_api(site: TestClient, service: HordeService,
                                                         make_user) -> None:  # type: ignore[no-untyped-def]
    owner, key = await make_user("owner")
    await service.pop_image(owner, pop_spec("gpu-m"))
    worker = (await service.list_workers())[0]
    csrf = await login(site, key)
    r = await site.post(f"/me/workers/{worker.id}", data={"maintenance": "on", "csrf": csrf}, allow_redirects=False)
    assert r.status == 303
    api = await (await site.get(f"/api/v2/workers/{worker.id}")).json()
    assert api["maintenance_mode"] is True
    other, other_key = await make_user("mallory")
    await site.post("/logout", data={"csrf": csrf})
    csrf = await login(site, other_key)
    r = await site.post(f"/me/workers/{worker.id}", data={"maintenance": "off", "csrf": csrf}, allow_redirects=False)
    assert r.status == 403  # not their worker
    assert (await (await site.get(f"/api/v2/workers/{worker.id}")).json())["maintenance_mode"] is True


async def test_logout_and_a_new_key_end_the_session(site: TestClient, service: HordeService,
                                                    make_user) -> None:  # type: ignore[no-untyped-def]
    user, key = await make_user("alice")
    csrf = await login(site, key)
    await site.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert (await site.get("/me", allow_redirects=False)).status == 303
    await login(site, key)
    await service.regenerate_key(user.id)
    assert (await site.get("/me", allow_redirects=False)).status == 303
    forged = site.session.cookie_jar
    forged.update_cookies({"horde_session": f"s1.{user.id}.9999999999.00.00.00"})
    assert (await site.get("/me", allow_redirects=False)).status == 303
