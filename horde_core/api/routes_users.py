"""Users and kudos awards (issue 16): the leaderboard, details by privilege, moderators' changes."""

from __future__ import annotations

from aiohttp import web

from horde_core.service import BadRequest, HordeService, NotFound, UserRow
from horde_core.service.admin_schemas import AwardSpec, ModifyUserSpec

from .format_users import user_details
from .http import apikey, body, ok, service

routes = web.RouteTableDef()
BODIES = {("PUT", "/api/v2/users/{id}"): ModifyUserSpec, ("POST", "/api/v2/kudos/award"): AwardSpec}


def _user_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdecimal() or len(raw) > 9:
        raise NotFound(f"User {raw} not found. Use the number in 'name#1'.", rc="UserNotFound")
    return int(raw)


def _page(request: web.Request) -> int:
    raw = request.query.get("page", "1") or "1"
    if not raw.isdecimal() or len(raw) > 9:
        raise BadRequest("page must be a positive whole number.", rc="InvalidQuery")
    return int(raw)


async def _viewer(svc: HordeService, request: web.Request) -> UserRow | None:
    """The caller when they sent a key (a wrong key is a 401, as on AI Horde); None when they did not."""
    key = apikey(request)
    return await svc.authenticate(key) if key else None


@routes.get("/api/v2/users")
async def users_list(request: web.Request) -> web.Response:
    """All users, 25 a page, by kudos (or sort=age)"""
    svc = service(request)
    now = svc.clock.now()
    found = await svc.users_page(_page(request), request.query.get("sort", "kudos"))
    return ok([user_details(view, now) for view in found])


@routes.get("/api/v2/users/{id}")
async def user_by_id(request: web.Request) -> web.Response:
    """A user's details; themselves and moderators see more"""
    user_id = _user_id(request)
    svc = service(request)
    return ok(user_details(await svc.user_details(await _viewer(svc, request), user_id), svc.clock.now()))


@routes.put("/api/v2/users/{id}")
async def user_modify(request: web.Request) -> web.Response:
    """Moderators change a user's roles, concurrency, kudos or suspicion"""
    user_id = _user_id(request)
    svc = service(request)
    actor = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, ModifyUserSpec)
    return ok(await svc.modify_user(actor, user_id, spec))


@routes.post("/api/v2/kudos/award")
async def kudos_award(request: web.Request) -> web.Response:
    """Moderators award kudos to a user"""
    svc = service(request)
    actor = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, AwardSpec)
    return ok({"awarded": float(await svc.award_kudos(actor, spec.username, spec.amount))})
