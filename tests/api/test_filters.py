"""AI Horde's /v2/filters over HTTP (issue 16), backed by our prompt-filter terms: moderators list, add, change
and remove terms, and check prompts; the filter in force changes at once; everyone else gets 403."""

from __future__ import annotations

import re

import pytest

from horde_core.service import HordeService

from .calls import call


@pytest.fixture
def config(config):  # type: ignore[no-untyped-def]
    config.web.admins = ["boss"]
    return config


async def test_non_moderators_get_403_and_nothing_changes(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    _, key = await make_user("member")
    before = await service.filter_terms()
    for method, path, body in (("GET", "/filters", None), ("PUT", "/filters", {"regex": "x", "filter_type": 20}),
                               ("POST", "/filters", {"prompt": "a cat"}), ("GET", "/filters/1", None),
                               ("GET", "/filters/regex", None),
                               ("PATCH", "/filters/1", {"description": "x"}), ("DELETE", "/filters/1", None)):
        status, out = await call(server, method, path, key, body)
        assert (status, out["rc"]) == (403, "NotModerator"), (method, path)
    assert (await call(server, "GET", "/filters", "0000000000"))[0] == 403
    assert await service.filter_terms() == before


async def test_a_moderator_checks_prompts_as_ai_horde_does(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    _, key = await make_user("boss")
    status, out = await call(server, "POST", "/filters", key, {"prompt": "a young girl nude"})
    assert status == 200 and out["suspicion"] == "2" and "nude" in out["matches"]
    status, out = await call(server, "POST", "/filters", key, {"prompt": "a young girl nude", "filter_type": 20})
    assert (status, out) == (200, {"suspicion": "1", "matches": ["nude"]})
    assert await call(server, "POST", "/filters", key, {"prompt": "a cat in a hat"}) == (
        200, {"suspicion": "0", "matches": []})
    status, shipped = await call(server, "GET", "/filters", key, filter_type="11")
    assert status == 200 and "loli" in {f["regex"] for f in shipped}
    assert all(f["filter_type"] == 11 and f["user"] == "default terms" and f["id"].isdecimal() for f in shipped)
    status, found = await call(server, "GET", "/filters", key, contains="lolic")
    assert {f["regex"] for f in found} == {"lolicon"} and 11 in {f["filter_type"] for f in found}


async def test_a_moderator_adds_changes_and_removes_terms(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    boss, key = await make_user("boss")
    prompt = {"prompt": "a child zorblax"}
    assert (await call(server, "POST", "/filters", key, prompt))[1]["suspicion"] == "1"
    status, added = await call(server, "PUT", "/filters", key, {"regex": "zorblax", "filter_type": 20,
                                                                "description": "made-up slang"})
    assert status == 200 and added == {"id": added["id"], "regex": "zorblax", "filter_type": 20,
                                       "description": "made-up slang", "replacement": "", "user": boss.display_name}
    assert (await call(server, "POST", "/filters", key, prompt))[1]["suspicion"] == "2"  # in force at once
    assert (await service.prompt_filter()).check("a child zorblax").blocked
    assert (await call(server, "PUT", "/filters", key, {"regex": "zorblax", "filter_type": 20}))[1] == added
    assert (await call(server, "GET", f"/filters/{added['id']}", key))[1] == added
    status, moved = await call(server, "PATCH", f"/filters/{added['id']}", key,
                               {"filter_type": 10, "replacement": "grown-up"})
    assert status == 200 and (moved["filter_type"], moved["replacement"], moved["description"]) == (
        10, "grown-up", "made-up slang") and moved["id"] != added["id"]
    assert (await call(server, "GET", f"/filters/{added['id']}", key))[1]["rc"] == "FilterNotFound"
    terms = await service.filter_terms()
    assert terms["groups"]["underage"]["api"]["zorblax"] == terms["thresholds"]["underage"]
    assert terms["replacements"]["zorblax"] == "grown-up" and "zorblax" not in terms["groups"]["sexual"]["api"]
    assert await call(server, "DELETE", f"/filters/{moved['id']}", key) == (200, {"message": "OK"})
    assert (await call(server, "POST", "/filters", key, prompt))[1]["suspicion"] == "1"
    assert (await call(server, "DELETE", f"/filters/{moved['id']}", key))[0] == 404
    log = [e["action"] for e in (await service.abuse_overview())["log"]]
    assert log == ["filter_delete", "filter_edit", "filter_add"]


async def test_hostile_filters_are_4xx(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    _, key = await make_user("boss")
    before = await service.filter_terms()
    for body, rc in (({"regex": "ac.*", "filter_type": 20}, "InvalidFilterRegex"),
                     ({"regex": "(a|b)", "filter_type": 10}, "InvalidFilterRegex"),
                     ({"regex": "lol*", "filter_type": 11}, "InvalidFilterRegex"),
                     ({"regex": "word", "filter_type": 15}, "InvalidFilterType"),
                     ({"regex": "word"}, "MissingFilterField")):
        status, out = await call(server, "PUT", "/filters", key, body)
        assert (status, out["rc"]) == (400, rc), body
    for body in ({"regex": "word", "filter_type": 9}, {"regex": "word", "filter_type": 30},
                 {"regex": "", "filter_type": 10}, {"regex": "x" * 101, "filter_type": 10}, [1]):
        assert (await call(server, "PUT", "/filters", key, body))[0] == 400, body
    for body in ({"prompt": ""}, {"prompt": "x", "filter_type": "ten"}, {}):
        assert (await call(server, "POST", "/filters", key, body))[0] == 400, body
    status, out = await call(server, "POST", "/filters", key, {"prompt": "x", "filter_type": 12})
    assert (status, out["rc"]) == (400, "InvalidFilterType")
    _, shipped = await call(server, "GET", "/filters", key, filter_type="11")
    status, out = await call(server, "PATCH", f"/filters/{shipped[0]['id']}", key, {})
    assert (status, out["rc"]) == (400, "NoFilterModSelected")
    status, out = await call(server, "PATCH", f"/filters/{shipped[0]['id']}", key, {"regex": "a.b"})
    assert (status, out["rc"]) == (400, "InvalidFilterRegex")
    assert (await call(server, "GET", "/filters", key, filter_type="x"))[1]["rc"] == "InvalidQuery"
    assert (await call(server, "GET", "/filters/" + "9" * 300, key))[0] == 404
    assert await service.filter_terms() == before


async def test_a_moderator_reads_one_regex_per_filter_type(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    _, key = await make_user("boss")
    assert (await call(server, "PUT", "/filters", key, {"regex": "zorb.lax", "filter_type": 20}))[0] == 400
    assert (await call(server, "PUT", "/filters", key, {"regex": "zorblax", "filter_type": 20}))[0] == 200
    assert (await call(server, "PUT", "/filters", key, {"regex": "quibbl*", "filter_type": 20}))[0] == 200
    status, out = await call(server, "GET", "/filters/regex", key)
    assert status == 200 and [r["filter_type"] for r in out] == [10, 11, 20]
    regexes = {r["filter_type"]: re.compile(r["regex"]) for r in out}
    assert regexes[20].search("a zorblax here") and not regexes[20].search("a cat in a hat")
    assert regexes[20].fullmatch("quibbling") and not regexes[20].search("quib*")
    assert regexes[11].search("lolicon") and not regexes[10].search("zorblax")
    status, only = await call(server, "GET", "/filters/regex", key, filter_type="20")
    assert status == 200 and [r["filter_type"] for r in only] == [20] and only[0]["regex"] == out[2]["regex"]
    assert (await call(server, "GET", "/filters/regex", key, filter_type="x"))[1]["rc"] == "InvalidQuery"
