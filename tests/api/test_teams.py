"""Teams (/v2/teams) and PUT /v2/workers/{id} (name, team, paused) over real HTTP, with AI Horde's rules."""

from __future__ import annotations

from typing import Any

import aiohttp
from sqlalchemy import update

from horde_core.models import User
from horde_core.service import HordeService
from tests.helpers import image_request

POP = {"name": "Gentle Giant", "models": ["stable_diffusion"], "max_pixels": 1048576}


async def _call(http: aiohttp.ClientSession, method: str, url: Any, key: str | None = None,
                body: dict[str, Any] | None = None) -> tuple[int, Any]:
    headers = {"apikey": key} if key else {}
    async with http.request(method, url, headers=headers, json=body) as r:
        return r.status, await r.json()


async def _make_moderator(service: HordeService, user_id: int) -> None:
    async with service.db.transaction() as conn:
        await conn.execute(update(User).where(User.id == user_id).values(moderator=True))
    service.auth_cache.user_changed(user_id)


async def test_teams_and_workers_joining_them(service: HordeService, server, make_user) -> None:
    captain, ckey = await make_user("captain", trusted=True)
    _, pkey = await make_user("plain")
    owner, wkey = await make_user("gpu")
    url = server.make_url
    async with aiohttp.ClientSession() as http:
        status, refused = await _call(http, "POST", url("/api/v2/teams"), pkey, {"name": "Direct Action"})
        assert (status, refused["rc"]) == (403, "UntrustedTeamCreation")
        status, created = await _call(http, "POST", url("/api/v2/teams"), ckey,
                                      {"name": "Direct Action", "info": "Anarchy is emergent order."})
        assert status == 200 and set(created) == {"id", "name", "info"}
        team_id = created["id"]
        status, refused = await _call(http, "POST", url("/api/v2/teams"), ckey, {"name": "Direct Action"})
        assert (status, refused["rc"]) == (400, "TeamNameAlreadyExists")
        status, refused = await _call(http, "POST", url("/api/v2/teams"), ckey, {"name": "x"})
        assert status == 400

        status, _ = await _call(http, "POST", url("/api/v2/generate/pop"), wkey, POP)
        assert status == 200
        status, [worker] = await _call(http, "GET", url("/api/v2/workers"))
        assert "team" not in worker
        wid = worker["id"]
        status, joined = await _call(http, "PUT", url(f"/api/v2/workers/{wid}"), wkey, {"team": team_id})
        assert (status, joined) == (200, {"team": "Direct Action"})
        status, details = await _call(http, "GET", url(f"/api/v2/workers/{wid}"))
        assert details["team"] == {"name": "Direct Action", "id": team_id}

        status, t = await _call(http, "GET", url(f"/api/v2/teams/{team_id}"))
        assert status == 200
        assert t["name"] == "Direct Action" and t["creator"] == f"captain#{captain.id}"
        assert t["worker_count"] == 1 and t["workers"][0]["id"] == wid and t["workers"][0]["online"] is True
        assert t["models"] == [{"name": "stable_diffusion", "count": 1}]
        status, listing = await _call(http, "GET", url("/api/v2/teams"))
        assert [x["id"] for x in listing] == [team_id]

        # Only the creator (or a moderator) changes a team.
        status, refused = await _call(http, "PATCH", url(f"/api/v2/teams/{team_id}"), pkey, {"name": "Mine"})
        assert status == 403
        status, changed = await _call(http, "PATCH", url(f"/api/v2/teams/{team_id}"), ckey, {"name": "Mutual Aid"})
        assert status == 200 and changed["name"] == "Mutual Aid"
        status, refused = await _call(http, "PATCH", url(f"/api/v2/teams/{team_id}"), ckey, {})
        assert (status, refused["rc"]) == (400, "NoTeamModSelected")
        status, refused = await _call(http, "GET", url("/api/v2/teams/nope"))
        assert (status, refused["rc"]) == (404, "TeamNotFound")
        status, refused = await _call(http, "PUT", url(f"/api/v2/workers/{wid}"), wkey, {"team": "nope"})
        assert (status, refused["rc"]) == (404, "TeamNotFound")

        # Deleting a team leaves its workers teamless.
        status, refused = await _call(http, "DELETE", url(f"/api/v2/teams/{team_id}"), pkey)
        assert status == 403
        status, deleted = await _call(http, "DELETE", url(f"/api/v2/teams/{team_id}"), ckey)
        assert (status, deleted) == (200, {"deleted_id": team_id, "deleted_name": "Mutual Aid"})
        status, details = await _call(http, "GET", url(f"/api/v2/workers/{wid}"))
        assert "team" not in details
        status, listing = await _call(http, "GET", url("/api/v2/teams"))
        assert listing == []
    assert owner.id != captain.id


async def test_rename_pause_and_leave(service: HordeService, server, make_user) -> None:
    _, wkey = await make_user("gpu")
    _, okey = await make_user("other")
    mod, mkey = await make_user("mod")
    await _make_moderator(service, mod.id)
    requester, _ = await make_user("req", kudos=1000)
    url = server.make_url
    async with aiohttp.ClientSession() as http:
        for name in ("Gentle Giant", "Taken Name"):
            status, _ = await _call(http, "POST", url("/api/v2/generate/pop"), wkey, {**POP, "name": name})
            assert status == 200
        wid = (await service.get_worker(name="Gentle Giant")).id

        status, refused = await _call(http, "PUT", url(f"/api/v2/workers/{wid}"), wkey, {"name": "Taken Name"})
        assert (status, refused["rc"]) == (400, "WorkerNameAlreadyExists")
        status, refused = await _call(http, "PUT", url(f"/api/v2/workers/{wid}"), okey, {"name": "Stolen"})
        assert (status, refused["rc"]) == (403, "NotModerator")
        status, renamed = await _call(http, "PUT", url(f"/api/v2/workers/{wid}"), wkey, {"name": "Kind Giant"})
        assert (status, renamed) == (200, {"name": "Kind Giant"})
        assert (await service.get_worker(wid)).name == "Kind Giant"

        # Paused: moderators only; the worker keeps popping and gets nothing until unpaused.
        status, refused = await _call(http, "PUT", url(f"/api/v2/workers/{wid}"), wkey, {"paused": True})
        assert (status, refused["rc"]) == (403, "NotModerator")
        status, paused = await _call(http, "PUT", url(f"/api/v2/workers/{wid}"), mkey, {"paused": True})
        assert (status, paused) == (200, {"paused": True})
        await service.request_images(requester, image_request())
        status, popped = await _call(http, "POST", url("/api/v2/generate/pop"), wkey, {**POP, "name": "Kind Giant"})
        assert status == 200 and popped["id"] is None
        status, _ = await _call(http, "PUT", url(f"/api/v2/workers/{wid}"), mkey, {"paused": False})
        status, popped = await _call(http, "POST", url("/api/v2/generate/pop"), wkey, {**POP, "name": "Kind Giant"})
        assert status == 200 and popped["id"]

        status, left = await _call(http, "PUT", url(f"/api/v2/workers/{wid}"), wkey, {"team": ""})
        assert (status, left) == (200, {"team": "None"})
        status, refused = await _call(http, "PUT", url(f"/api/v2/workers/{wid}"), wkey, {})
        assert (status, refused["rc"]) == (400, "NoWorkerModSelected")
        status, both = await _call(http, "PUT", url(f"/api/v2/workers/{wid}"), wkey,
                                   {"maintenance": True, "info": "back soon"})
        assert (status, both) == (200, {"maintenance": True, "info": "back soon"})
