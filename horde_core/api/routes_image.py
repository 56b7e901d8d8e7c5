"""Image generation endpoints: client side (async, check, status) and worker side (pop, submit, r2)."""

from __future__ import annotations

from aiohttp import web

from horde_core.service.schemas import ImagePopSpec, ImageRequestSpec, RateSpec, SubmitSpec

from . import format as fmt
from .http import apikey, body, client_agent, ipaddr, ok, read_body, service
from .routes_messages import with_messages

routes = web.RouteTableDef()


@routes.post("/api/v2/generate/async")
async def generate_async(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_shared=True)
    spec = await body(request, ImageRequestSpec, large=True)
    accepted = await svc.request_images(user, spec, client_agent=client_agent(request), ipaddr=ipaddr(request))
    if accepted.id is None:
        return ok({"kudos": float(accepted.kudos)})
    out: dict[str, object] = {"id": accepted.id, "kudos": float(accepted.kudos)}
    if accepted.warnings:
        out["warnings"] = accepted.warnings
    if accepted.message:
        out["message"] = accepted.message
    return ok(out, status=202)


@routes.get("/api/v2/generate/check/{id}")
async def generate_check(request: web.Request) -> web.Response:
    return ok(fmt.progress(await service(request).check(request.match_info["id"])))


@routes.get("/api/v2/generate/status/{id}")
async def generate_status(request: web.Request) -> web.Response:
    return ok(fmt.image_status(await service(request).status(request.match_info["id"])))


@routes.delete("/api/v2/generate/status/{id}")
async def generate_cancel(request: web.Request) -> web.Response:
    return ok(fmt.image_status(await service(request).cancel(request.match_info["id"])))


@routes.post("/api/v2/generate/rate/{id}")
async def generate_rate(request: web.Request) -> web.Response:
    """The owner rates their own results (aesthetic score 1-10, artifacts 0-5, the best of a batch)."""
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, RateSpec)
    reward = await svc.rate_own(user, request.match_info["id"], spec, client_agent=client_agent(request))
    return ok({"reward": float(reward)})


@routes.post("/api/v2/generate/pop")
async def generate_pop(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, ImagePopSpec)
    popped = fmt.image_pop(await svc.pop_image(user, spec, ipaddr=ipaddr(request)))
    return ok(await with_messages(svc, popped, user, spec.name))


@routes.post("/api/v2/generate/submit")
async def generate_submit(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, SubmitSpec, large=True)
    return ok({"reward": float(await svc.submit_image(user, spec))})


# Served from our own origin, so a stored file can never act as a page: no sniffing, no scripts, no origin.
STORE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=600",
                 "Content-Security-Policy": "default-src 'none'; sandbox"}


@routes.put("/api/v2/r2/upload/{folder:[a-z]+}/{name}")
async def r2_upload(request: web.Request) -> web.Response:
    """Where workers PUT results: no apikey, no content type; the signed URL is the permission, and only the
    claim it was made for, while that claim holds its job (409 JobNotHeld after). Any bytes within the
    size limit answer 200; the submit decides whether they are an image."""
    svc = service(request)
    svc.check_signature(request.path, request.query.get("exp", ""), request.query.get("sig", ""))
    key = f"{request.match_info['folder']}/{request.match_info['name']}"
    await svc.upload_allowed(key)  # before reading a byte of the body
    data = await read_body(request, large=True, limit=svc.config.api.max_upload_bytes)
    await svc.upload(key, data)
    return web.Response(status=200)


@routes.get(r"/api/v2/r2/{folder:[a-z]+}/{name:[0-9a-f-]{36}\.webp}")
async def r2_download(request: web.Request) -> web.StreamResponse:
    svc = service(request)
    svc.check_signature(request.path, request.query.get("exp", ""), request.query.get("sig", ""))
    key = f"{request.match_info['folder']}/{request.match_info['name']}"
    data = await svc.store.get(key)
    if data is None:
        raise web.HTTPNotFound()
    return web.Response(body=data, content_type="image/webp", headers=STORE_HEADERS)
