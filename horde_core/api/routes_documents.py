"""The operator's documents and the horde's modes (issue 16), as AI Horde serves them."""

from __future__ import annotations

from aiohttp import web

from horde_core.service import BadRequest
from horde_core.service.documents import markdown_to_html

from .http import apikey, ok, service

routes = web.RouteTableDef()


@routes.get("/api/v2/documents/{name:terms|privacy|sponsors}")
async def document(request: web.Request) -> web.Response:
    """Terms, privacy or sponsors, as html (default) or markdown"""
    form = request.query.get("format", "html") or "html"
    if form not in ("html", "markdown"):
        raise BadRequest("'format' needs to be one of ['html', 'markdown']", rc="InvalidQuery")
    text = service(request).document(request.match_info["name"])
    return ok({"markdown": text} if form == "markdown" else {"html": markdown_to_html(text)})


@routes.get("/api/v2/status/modes")
async def modes(request: web.Request) -> web.Response:
    """Maintenance, invite-only and (for moderators) raid mode"""
    svc = service(request)
    key = apikey(request)
    return ok(svc.horde_modes(await svc.authenticate(key) if key else None))
