"""Interrogation ("alchemy") endpoints: client side and alchemist side."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from horde_core.service import AlchemyStatus
from horde_core.service.schemas import AlchemyPopSpec, AlchemyRequestSpec, AlchemySubmitSpec

from .http import apikey, body, client_agent, ipaddr, ok, service
from .routes_messages import with_messages

routes = web.RouteTableDef()
ALCHEMY_SKIP_KEYS = frozenset({"bridge_version", "untrusted", "worker_id"})


def alchemy_status(s: AlchemyStatus) -> dict[str, Any]:
    forms = []
    for f in s.forms:
        entry: dict[str, Any] = {"form": f.form, "state": f.state}
        if f.result is not None:
            entry["result"] = f.result
        forms.append(entry)
    return {"state": s.state, "forms": forms}


@routes.post("/api/v2/interrogate/async")
async def interrogate_async(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_shared=True)
    spec = await body(request, AlchemyRequestSpec, large=True)
    rid = await svc.request_interrogation(user, spec, client_agent=client_agent(request), ipaddr=ipaddr(request))
    return ok({"id": rid}, status=202)


@routes.get("/api/v2/interrogate/status/{id}")
async def interrogate_status(request: web.Request) -> web.Response:
    return ok(alchemy_status(await service(request).interrogation_status(request.match_info["id"])))


@routes.delete("/api/v2/interrogate/status/{id}")
async def interrogate_cancel(request: web.Request) -> web.Response:
    return ok(alchemy_status(await service(request).cancel_interrogation(request.match_info["id"])))


@routes.post("/api/v2/interrogate/pop")
async def interrogate_pop(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, AlchemyPopSpec)
    popped, skipped = await svc.pop_interrogation(user, spec, ipaddr=ipaddr(request))
    forms = []
    for f in popped:
        entry: dict[str, Any] = {"id": f.id, "form": f.form, "source_image": f.source_image}
        if f.payload:
            entry["payload"] = f.payload
        if f.r2_upload:
            entry["r2_upload"] = f.r2_upload
        forms.append(entry)
    answer = {"forms": forms, "skipped": {k: v for k, v in skipped.items() if k in ALCHEMY_SKIP_KEYS}}
    return ok(await with_messages(svc, answer, user, spec.name))


@routes.post("/api/v2/interrogate/submit")
async def interrogate_submit(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, AlchemySubmitSpec, large=True)
    return ok({"reward": float(await svc.submit_interrogation(user, spec))})
