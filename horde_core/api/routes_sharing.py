"""Shared keys (/v2/sharedkeys) and worker teams (/v2/teams), in AI Horde's shapes (issue 16)."""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

from aiohttp import web

from horde_core.service import SharedKeyInfo
from horde_core.service.sharing_specs import SharedKeyModifySpec, SharedKeySpec

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
