"""Users over HTTP as AI Horde has them (issue 16): the leaderboard, details by privilege, moderators' changes
(PUT /v2/users/{id}) and kudos awards, each one logged; everyone else gets 403 and nothing changes."""

from __future__ import annotations

import pytest

from horde_core.service import HordeService
from tests.helpers import assert_books_balance, balance

from .calls import call


@pytest.fixture
def config(config):  # type: ignore[no-untyped-def]
    config.web.admins = ["boss"]
    return config


async def _moderator(service: HordeService, server, make_user):  # type: ignore[no-untyped-def]
    """An operator (web.admins) makes a user a moderator through the API."""
    _, boss_key = await make_user("boss")
    mod, mod_key = await make_user("mod")
    status, out = await call(server, "PUT", f"/users/{mod.id}", boss_key, {"moderator": True})
    assert (status, out) == (200, {"moderator": True})
    return mod, mod_key


async def test_users_is_a_kudos_leaderboard_25_a_page(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    made = [await make_user(f"u{i}", kudos=(i * 37) % 101 + 1) for i in range(27)]
    status, first = await call(server, "GET", "/users")
    assert status == 200 and len(first) == 25
    kudos = [u["kudos"] for u in first]
    assert kudos == sorted(kudos, reverse=True) and kudos[0] == max(u.kudos for u, _ in made)
    assert all("worker_ids" not in u and "suspicious" not in u for u in first)  # public view
    status, second = await call(server, "GET", "/users?page=2")
    assert status == 200 and len(second) == 3  # 27 users and the anonymous one
    assert {u["id"] for u in first} | {u["id"] for u in second} == {u.id for u, _ in made} | {0}
    status, by_age = await call(server, "GET", "/users?sort=age")
    assert [u["id"] for u in by_age][:3] == [0, made[0][0].id, made[1][0].id]
    assert (await call(server, "GET", "/users?page=10001")) == (200, [])
    assert (await call(server, "GET", "/users?page=-1"))[1]["rc"] == "InvalidQuery"


async def test_details_depend_on_who_asks(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    _, mod_key = await _moderator(service, server, make_user)
    member, key = await make_user("member", kudos=10)
    _, other = await make_user("other")
    who = service.subject(member.id, False, "", "")
    await service.record_strike(who, "blocked_prompt", prompt="x")
    status, public = await call(server, "GET", f"/users/{member.id}", other)
    assert status == 200 and public["username"] == f"member#{member.id}" and public["kudos"] == 10.0
    assert public["moderator"] is False and "worker_ids" not in public and "suspicious" not in public
    assert public["usage"] == {"megapixelsteps": 0.0, "requests": 0}
    _, mine = await call(server, "GET", f"/users/{member.id}", key)
    assert mine["worker_ids"] == [] and "active_generations" in mine and "suspicious" not in mine
    _, modview = await call(server, "GET", f"/users/{member.id}", mod_key)
    assert modview["suspicious"] == 1
    assert (await call(server, "GET", f"/users/{member.id}", "x" * 22))[0] == 401
    assert (await call(server, "GET", "/users/abc"))[1]["rc"] == "UserNotFound"


async def test_non_moderators_get_403_and_nothing_changes(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    member, key = await make_user("member", kudos=10)
    target, _ = await make_user("target", kudos=10)
    for body in ({"trusted": True}, {"kudos": 500}, {"concurrency": 99}, {"moderator": True},
                 {"username": "renamed"}):
        status, out = await call(server, "PUT", f"/users/{target.id}", key, body)
        assert (status, out["rc"]) == (403, "NotModerator"), body
    status, out = await call(server, "POST", "/kudos/award", key, {"username": target.display_name})
    assert (status, out["rc"]) == (403, "NotModerator")
    assert (await call(server, "PUT", f"/users/{target.id}", "0000000000", {"trusted": True}))[0] == 403
    fresh = await service.user_by_name(str(target.id))
    assert fresh == target and await balance(service, target) == 10
    assert (await service.abuse_overview())["log"] == []
    # a user may rename themselves, as on AI Horde
    status, out = await call(server, "PUT", f"/users/{member.id}", key, {"username": "newname"})
    assert (status, out) == (200, {"username": f"newname#{member.id}"})


async def test_a_moderator_changes_a_user_and_each_change_is_logged(service: HordeService, server,  # type: ignore[no-untyped-def]
                                                                    make_user) -> None:
    mod, mod_key = await _moderator(service, server, make_user)
    member, _ = await make_user("member", kudos=10)
    body = {"trusted": True, "flagged": True, "customizer": True, "concurrency": 7, "kudos": -25}
    status, out = await call(server, "PUT", f"/users/{member.id}", mod_key, body)
    assert status == 200
    assert out == {"trusted": True, "flagged": True, "customizer": True, "concurrency": 7, "new_kudos": -15.0}
    fresh = await service.user_by_name(str(member.id))
    assert (fresh.trusted, fresh.flagged, fresh.customizer, fresh.concurrency, fresh.kudos) == (
        True, True, True, 7, -15)
    log = (await service.abuse_overview())["log"]
    assert {e["action"] for e in log} >= {"trusted", "flagged", "customizer", "concurrency", "grant", "moderator"}
    assert all(e["details"]["by"] == mod.display_name for e in log if e["subject"] == f"user:{member.id}")
    status, shown = await call(server, "GET", f"/users/{member.id}")
    assert (shown["flagged"], shown["customizer"], shown["trusted"]) == (True, True, True)
    assert shown["kudos_details"]["admin"] == 0.0  # the claw-back is a burn, not a grant
    # only an operator makes moderators
    status, out = await call(server, "PUT", f"/users/{member.id}", mod_key, {"moderator": True})
    assert (status, out["rc"]) == (403, "NotAdmin")
    await assert_books_balance(service)


async def test_hostile_values_are_4xx_and_change_nothing(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    _, mod_key = await _moderator(service, server, make_user)
    member, _ = await make_user("member", kudos=10)
    for bad in ({"concurrency": -1}, {"concurrency": 501}, {"concurrency": "x"}, {"kudos": 1.5},
                {"kudos": "10"}, {"kudos": 10**12}, {"trusted": "maybe"}, {"username": "a#1"},
                {"username": "ab"}, {"username": "  a  "}, {"username": "bad\nname"},
                {"vpn": True, "trusted": True}, {}):
        status, out = await call(server, "PUT", f"/users/{member.id}", mod_key, bad)
        assert status == 400, (bad, out)
    assert (await call(server, "PUT", f"/users/{member.id}", mod_key, {"vpn": True}))[1]["rc"] == \
        "UnsupportedUserField"
    assert (await call(server, "PUT", f"/users/{member.id}", mod_key, {}))[1]["rc"] == "NoUserModSelected"
    assert (await call(server, "PUT", f"/users/{member.id}", mod_key, [1]))[0] == 400
    assert (await call(server, "PUT", "/users/0", mod_key, {"trusted": True}))[1]["rc"] == "AnonForbidden"
    assert (await call(server, "PUT", "/users/999999", mod_key, {"trusted": True}))[0] == 404
    assert await service.user_by_name(str(member.id)) == member
    anon = await service.user_by_name("0")
    assert not anon.trusted and not anon.moderator


async def test_reset_suspicion_clears_the_strikes_on_the_key(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    _, mod_key = await _moderator(service, server, make_user)
    member, _ = await make_user("member")
    await service.record_strike(service.subject(member.id, False, "", ""), "blocked_prompt", prompt="x")
    status, out = await call(server, "PUT", f"/users/{member.id}", mod_key, {"reset_suspicion": True})
    assert (status, out) == (200, {"new_suspicion": 0})
    assert (await call(server, "GET", f"/users/{member.id}", mod_key))[1]["suspicious"] == 0


async def test_moderators_award_kudos_through_the_ledger(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    _, mod_key = await _moderator(service, server, make_user)
    member, _ = await make_user("member")
    status, out = await call(server, "POST", "/kudos/award", mod_key, {"username": member.display_name})
    assert (status, out) == (200, {"awarded": 100.0})
    status, out = await call(server, "POST", "/kudos/award", mod_key, {"username": member.display_name,
                                                                        "amount": 5})
    assert (status, out) == (200, {"awarded": 5.0})
    assert await balance(service, member) == 105
    assert (await call(server, "GET", f"/users/{member.id}"))[1]["kudos_details"]["awarded"] == 105.0
    log = (await service.abuse_overview())["log"]
    assert [e["details"]["amount"] for e in log if e["action"] == "award"] == [5, 100]
    for body, rc in (({"username": "Anonymous#0"}, "KudosAwardToAnon"), ({"username": "nobody#999"},
                     "InvalidAwardUsername"), ({"username": member.display_name, "amount": 0}, "ValidationError"),
                     ({"username": member.display_name, "amount": -5}, "ValidationError")):
        status, out = await call(server, "POST", "/kudos/award", mod_key, body)
        assert status == 400 and (out["rc"] == rc or rc == "ValidationError"), (body, out)
    assert await balance(service, member) == 105
    await assert_books_balance(service)


async def test_customizer_set_by_api_creates_styles_listed_in_user_details(service: HordeService, server,  # type: ignore[no-untyped-def]
                                                                           make_user) -> None:
    _, mod_key = await _moderator(service, server, make_user)
    member, key = await make_user("member")
    style = {"name": "mine", "prompt": "{p}", "models": ["stable_diffusion"]}
    assert (await call(server, "POST", "/styles/image", key, style))[0] == 403
    assert await call(server, "PUT", f"/users/{member.id}", mod_key, {"customizer": True}) == (
        200, {"customizer": True})
    status, public = await call(server, "POST", "/styles/image", key, style)
    assert status == 200
    status, private = await call(server, "POST", "/styles/text", key, {**style, "name": "secret", "public": False})
    assert status == 200
    shown = {"name": f"member#{member.id}::style::mine", "id": public["id"], "type": "image"}
    hidden = {"name": f"member#{member.id}::style::secret", "id": private["id"], "type": "text"}
    assert (await call(server, "GET", f"/users/{member.id}"))[1]["styles"] == [shown]
    for viewer in (key, mod_key):  # oldest first; both were made at the same (fake) instant
        styles = (await call(server, "GET", f"/users/{member.id}", viewer))[1]["styles"]
        assert sorted(styles, key=lambda s: s["name"]) == [shown, hidden]
    board = (await call(server, "GET", "/users"))[1]
    assert next(u for u in board if u["id"] == member.id)["styles"] == [shown]


async def test_a_flagged_user_neither_moves_kudos_nor_gets_jobs(service: HordeService, server,  # type: ignore[no-untyped-def]
                                                                make_user) -> None:
    _, mod_key = await _moderator(service, server, make_user)
    suspect, suspect_key = await make_user("suspect", kudos=50)
    friend, friend_key = await make_user("friend", kudos=50)
    requester, requester_key = await make_user("requester", kudos=100)
    status, _ = await call(server, "POST", "/generate/async", requester_key, {"prompt": "a red fox in snow"})
    assert status == 202
    assert (await call(server, "PUT", f"/users/{suspect.id}", mod_key, {"flagged": True}))[0] == 200
    transfer = {"username": friend.display_name, "amount": 5}
    assert (await call(server, "POST", "/kudos/transfer", suspect_key, transfer))[1]["rc"] == "SourceAccountFlagged"
    transfer = {"username": suspect.display_name, "amount": 5}
    assert (await call(server, "POST", "/kudos/transfer", friend_key, transfer))[1]["rc"] == "TargetAccountFlagged"
    assert await balance(service, suspect) == 50 and await balance(service, friend) == 50
    pop = {"name": "suspect-gpu", "models": ["stable_diffusion"]}
    status, out = await call(server, "POST", "/generate/pop", suspect_key, pop)
    assert status == 200 and out["id"] is None  # polls on, but gets nothing while flagged
    assert (await call(server, "PUT", f"/users/{suspect.id}", mod_key, {"flagged": False}))[0] == 200
    status, out = await call(server, "POST", "/generate/pop", suspect_key, pop)
    assert status == 200 and out["id"] is not None
    await assert_books_balance(service)
