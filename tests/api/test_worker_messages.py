"""Messages to workers over HTTP (issue 16): moderators write to a worker or to all, owners to their own;
workers read the live ones in their pop answers (image, text, interrogation); owners read their workers'."""

from __future__ import annotations

import pytest

from horde_core.service import HordeService

from .calls import call

POP = {"image": ("/generate/pop", {"models": ["stable_diffusion"]}), "text": ("/generate/text/pop", {"models": ["m"]}),
       "interrogation": ("/interrogate/pop", {"forms": ["caption"]})}


@pytest.fixture
def config(config):  # type: ignore[no-untyped-def]
    config.web.admins = ["boss"]
    return config


async def _worker(service: HordeService, server, key: str, name: str, kind: str = "image") -> str:  # type: ignore[no-untyped-def]
    path, body = POP[kind]
    status, _ = await call(server, "POST", path, key, {"name": name, **body})
    assert status == 200
    return (await service.get_worker(name=name)).id


async def _messages(server, key: str, name: str, kind: str = "image") -> list[dict] | None:  # type: ignore[no-untyped-def,type-arg]
    path, body = POP[kind]
    status, out = await call(server, "POST", path, key, {"name": name, **body})
    assert status == 200, out
    return out.get("messages")


async def test_moderators_write_and_workers_read_in_their_pops(service: HordeService, server, make_user,  # type: ignore[no-untyped-def]
                                                              clock) -> None:
    boss, boss_key = await make_user("boss")
    owner, key = await make_user("owner")
    _, other_key = await make_user("other")
    mine = await _worker(service, server, key, "mine")
    await _worker(service, server, key, "mine-text", "text")
    await _worker(service, server, other_key, "theirs")
    assert await _messages(server, key, "mine") is None  # nothing to say: no key (strict SDK models lack it)
    status, sent = await call(server, "POST", "/workers/messages", boss_key,
                              {"worker_id": mine, "message": "Please update your worker.", "expiry": 2})
    assert status == 200 and set(sent) == {"id", "worker_id", "user_id", "message", "origin", "expiry", "created"}
    assert (sent["worker_id"], sent["user_id"], sent["origin"]) == (mine, str(boss.id), "hordebot moderators")
    assert sent["expiry"].endswith("-0000") and sent["created"][:3].isalpha()  # RFC 822 dates
    popped = await _messages(server, key, "mine")
    assert popped == [{"id": sent["id"], "message": "Please update your worker.", "origin": "hordebot moderators",
                       "expiry": sent["expiry"]}]
    assert await _messages(server, other_key, "theirs") is None
    status, everyone = await call(server, "POST", "/workers/messages", boss_key,
                                  {"message": "Maintenance tonight.", "origin": "ops"})
    assert status == 200 and "worker_id" not in everyone
    for k, name, kind in ((key, "mine-text", "text"), (other_key, "theirs", "image")):
        assert [m["id"] for m in await _messages(server, k, name, kind) or []] == [everyone["id"]]
    await _worker(service, server, other_key, "theirs-alchemy", "interrogation")
    assert [m["id"] for m in await _messages(server, other_key, "theirs-alchemy", "interrogation") or []] == [
        everyone["id"]]
    # the owner reads their workers' messages; another user only the ones to everyone
    status, listed = await call(server, "GET", "/workers/messages", key)
    assert status == 200 and {m["id"] for m in listed} == {sent["id"], everyone["id"]}
    assert {m["id"] for m in (await call(server, "GET", "/workers/messages", other_key))[1]} == {everyone["id"]}
    status, out = await call(server, "GET", "/workers/messages", other_key, user_id=str(owner.id))
    assert (status, out["rc"]) == (403, "Forbidden")
    assert [m["id"] for m in (await call(server, "GET", "/workers/messages", boss_key, worker_id=mine))[1]] == [
        sent["id"]]
    assert (await call(server, "GET", f"/workers/messages/{sent['id']}"))[1] == sent
    log = (await service.abuse_overview())["log"]
    assert [e["action"] for e in log].count("message") == 2
    # expiry: 2 hours for the first, 12 (the default) for the second
    clock.advance(3 * 3600)
    assert [m["id"] for m in await _messages(server, key, "mine") or []] == [everyone["id"]]
    assert [m["id"] for m in (await call(server, "GET", "/workers/messages", key, validity="expired"))[1]] == [
        sent["id"]]
    clock.advance(10 * 3600)
    assert await _messages(server, key, "mine") is None


async def test_owners_write_only_to_their_own_workers(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    owner, key = await make_user("owner")
    _, other_key = await make_user("other")
    mine = await _worker(service, server, key, "mine")
    theirs = await _worker(service, server, other_key, "theirs")
    status, sent = await call(server, "POST", "/workers/messages", key,
                              {"worker_id": mine, "message": "note to self", "origin": "anything"})
    assert status == 200 and sent["origin"] == str(owner.id)  # non-moderators cannot pose as anyone
    for body in ({"worker_id": theirs, "message": "hi"}, {"message": "to everyone"}):
        status, out = await call(server, "POST", "/workers/messages", key, body)
        assert (status, out["rc"]) == (403, "MessagesOnlyOwnWorkers")
    status, out = await call(server, "DELETE", f"/workers/messages/{sent['id']}", other_key)
    assert (status, out["rc"]) == (403, "Forbidden")
    assert await call(server, "DELETE", f"/workers/messages/{sent['id']}", key) == (200, {"message": "OK"})
    status, out = await call(server, "GET", f"/workers/messages/{sent['id']}")
    assert (status, out["rc"]) == (404, "WorkermessageNotFound")
    assert await _messages(server, key, "mine") is None


async def test_hostile_messages_are_4xx(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    _, boss_key = await make_user("boss")
    _, key = await make_user("owner")
    mine = await _worker(service, server, key, "mine")
    for bad in ({"message": ""}, {"message": "x" * 10241}, {"message": "x", "expiry": 0},
                {"message": "x", "expiry": 721}, {"message": "x", "expiry": "soon"}, {"message": 5},
                {"worker_id": "short", "message": "x"}, {"message": "x", "origin": "o" * 256}, {}):
        status, out = await call(server, "POST", "/workers/messages", boss_key, bad)
        assert status == 400, (bad, out)
    status, out = await call(server, "POST", "/workers/messages", boss_key, {"worker_id": "0" * 36, "message": "x"})
    assert (status, out["rc"]) == (404, "WorkerNotFound")
    assert (await call(server, "POST", "/workers/messages", "0000000000", {"worker_id": mine, "message": "x"}))[0] \
        == 403
    for query in ({"validity": "soon"}, {"page": "-1"}, {"user_id": "x"}):
        status, out = await call(server, "GET", "/workers/messages", boss_key, **query)
        assert (status, out["rc"]) == (400, "InvalidQuery"), query
    assert (await call(server, "GET", "/workers/messages/" + "x" * 500))[0] == 404
    assert (await call(server, "GET", "/workers/messages", boss_key))[1] == []


async def test_expired_messages_are_kept_as_long_as_the_moderation_log(service: HordeService, server,  # type: ignore[no-untyped-def]
                                                                       make_user, clock) -> None:
    _, boss_key = await make_user("boss")
    _, old = await call(server, "POST", "/workers/messages", boss_key, {"message": "old", "expiry": 1})
    clock.advance(service.config.safety.audit_retention_days * 86400 - 7200)
    _, recent = await call(server, "POST", "/workers/messages", boss_key, {"message": "recent", "expiry": 1})
    listed = (await call(server, "GET", "/workers/messages", boss_key, validity="all"))[1]
    assert {m["id"] for m in listed} == {old["id"], recent["id"]}
    clock.advance(7200 + 3601)  # the old one expired (an hour after it was written) more than that long ago
    _, new = await call(server, "POST", "/workers/messages", boss_key, {"message": "new"})
    listed = (await call(server, "GET", "/workers/messages", boss_key, validity="all"))[1]
    assert {m["id"] for m in listed} == {recent["id"], new["id"]}
