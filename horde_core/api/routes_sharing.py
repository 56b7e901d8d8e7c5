"""Shared keys (/v2/sharedkeys) and worker teams (/v2/teams), in AI Horde's shapes (issue 16)."""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

from aiohttp import web

from horde_core.service import SharedKeyInfo, TeamInfo
from horde_core.service.sharing_specs import SharedKeyModifySpec, SharedKeySpec, TeamCreateSpec, TeamModifySpec

from .http import apikey, body, ok, service

routes = web.RouteTableDef()


def shared_key(k: SharedKeyInfo) -> dict[str, Any]:
    """SharedKeyDetails; `expiry` as RFC 822, as flask-restx writes it; absent when the key never expires."""
    out: dict[str, Any] = {"id": k.id, "username": k.username, "kudos": k.kudos, "utilized": k.utilized,
                           "max_image_pixels": k.max_image_pixels, "max_image_steps": k.max_image_steps,
                           "max_text_tokens": k.max_text_tokens}
    if k.name is not None:
        out["name"] = k.name
    if k.expiry is not None:
        out["expiry"] = formatdate(k.expiry)
    return out


@routes.put("/api/v2/sharedkeys")
async def sharedkey_create(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, SharedKeySpec)
    return ok(shared_key(await svc.create_shared_key(user, spec)))


@routes.get("/api/v2/sharedkeys/{sharedkey_id}")
async def sharedkey_get(request: web.Request) -> web.Response:
    return ok(shared_key(await service(request).shared_key(request.match_info["sharedkey_id"])))


@routes.patch("/api/v2/sharedkeys/{sharedkey_id}")
async def sharedkey_modify(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, SharedKeyModifySpec)
    return ok(shared_key(await svc.modify_shared_key(user, request.match_info["sharedkey_id"], spec)))


@routes.delete("/api/v2/sharedkeys/{sharedkey_id}")
async def sharedkey_delete(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    await svc.delete_shared_key(user, request.match_info["sharedkey_id"])
    return ok({"message": "OK"})


def team(t: TeamInfo) -> dict[str, Any]:
    """TeamDetails (speed and performance are left out: this horde keeps no per-team speed)."""
    return {"name": t.name, "id": t.id, "info": t.info, "creator": t.creator,
            "requests_fulfilled": t.requests_fulfilled, "kudos": float(t.kudos), "uptime": t.uptime,
            "contributions": t.contributions, "worker_count": len(t.workers), "workers": t.workers,
            "models": t.models}


@routes.get("/api/v2/teams")
async def teams_list(request: web.Request) -> web.Response:
    return ok([team(t) for t in await service(request).list_teams()])


@routes.post("/api/v2/teams")
async def team_create(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, TeamCreateSpec)
    return ok(await svc.create_team(user, spec))


@routes.get("/api/v2/teams/{team_id}")
async def team_get(request: web.Request) -> web.Response:
    return ok(team(await service(request).get_team(request.match_info["team_id"])))


@routes.patch("/api/v2/teams/{team_id}")
async def team_modify(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, TeamModifySpec)
    return ok(await svc.modify_team(user, request.match_info["team_id"], spec))


@routes.delete("/api/v2/teams/{team_id}")
async def team_delete(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    return ok(await svc.delete_team(user, request.match_info["team_id"]))
