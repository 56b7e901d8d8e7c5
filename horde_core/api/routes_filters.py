"""AI Horde's /v2/filters (issue 16): moderators list, add, change and remove prompt-filter terms, and check
what the filter says of a prompt. How AI Horde's regex lists map onto our terms: service/filters_api.py."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from horde_core.service import BadRequest
from horde_core.service.admin_schemas import FilterCheckSpec, FilterSpec
from horde_core.service.filters_api import FilterInfo

from .http import apikey, body, ok, service

routes = web.RouteTableDef()
BODIES = {("PUT", "/api/v2/filters"): FilterSpec, ("POST", "/api/v2/filters"): FilterCheckSpec,
          ("PATCH", "/api/v2/filters/{filter_id}"): FilterSpec}


def filter_details(f: FilterInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"id": f.id, "regex": f.regex, "filter_type": f.filter_type,
                           "replacement": f.replacement, "user": f.user}
    if f.description:
        out["description"] = f.description
    return out


def _filter_type(request: web.Request) -> int | None:
    raw = request.query.get("filter_type", "")
    if raw and (not raw.isdecimal() or len(raw) > 3):
        raise BadRequest("filter_type must be a number.", rc="InvalidQuery")
    return int(raw) if raw else None


@routes.get("/api/v2/filters")
async def filters_list(request: web.Request) -> web.Response:
    """Moderators: the filter's terms, by type or containing a text"""
    svc = service(request)
    actor = await svc.authenticate(apikey(request), allow_anonymous=False)
    found = await svc.list_filters(actor, _filter_type(request), request.query.get("contains") or None)
    return ok([filter_details(f) for f in found])


@routes.put("/api/v2/filters")
async def filters_add(request: web.Request) -> web.Response:
    """Moderators: add a term"""
    svc = service(request)
    actor = await svc.authenticate(apikey(request), allow_anonymous=False)
    return ok(filter_details(await svc.add_filter(actor, await body(request, FilterSpec))))


@routes.post("/api/v2/filters")
async def filters_check(request: web.Request) -> web.Response:
    """Moderators: would this prompt be blocked, and by which words?"""
    svc = service(request)
    actor = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, FilterCheckSpec, large=True)
    return ok(await svc.prompt_suspicion(actor, spec.prompt, spec.filter_type))


@routes.get("/api/v2/filters/regex")  # before /filters/{filter_id}, which would take "regex" for an id
async def filters_regex(request: web.Request) -> web.Response:
    """Moderators: one regular expression per filter type (the alternation of its terms)"""
    svc = service(request)
    actor = await svc.authenticate(apikey(request), allow_anonymous=False)
    return ok(await svc.filter_regexes(actor, _filter_type(request)))


@routes.get("/api/v2/filters/{filter_id}")
async def filter_single(request: web.Request) -> web.Response:
    """Moderators: one term"""
    svc = service(request)
    actor = await svc.authenticate(apikey(request), allow_anonymous=False)
    return ok(filter_details(await svc.get_filter(actor, request.match_info["filter_id"])))


@routes.patch("/api/v2/filters/{filter_id}")
async def filter_patch(request: web.Request) -> web.Response:
    """Moderators: change a term"""
    svc = service(request)
    actor = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, FilterSpec)
    return ok(filter_details(await svc.patch_filter(actor, request.match_info["filter_id"], spec)))


@routes.delete("/api/v2/filters/{filter_id}")
async def filter_delete(request: web.Request) -> web.Response:
    """Moderators: remove a term"""
    svc = service(request)
    actor = await svc.authenticate(apikey(request), allow_anonymous=False)
    await svc.delete_filter(actor, request.match_info["filter_id"])
    return ok({"message": "OK"})
