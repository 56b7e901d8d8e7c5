"""Ratings: owners rate their results (in routes_image), anyone rates the pool (shared and imported images),
and the stats."""

from __future__ import annotations

from aiohttp import web

from horde_core.service import NotFound
from horde_core.service.schemas import PoolRatingSpec

from .http import apikey, body, client_agent, ok, service

routes = web.RouteTableDef()


@routes.get("/api/v2/ratings/next")
async def ratings_next(request: web.Request) -> web.Response:
    """An image of the pool the caller has not rated yet (optionally of one model, or of one dataset)."""
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    image = await svc.next_to_rate(user, request.query.get("model") or None, request.query.get("dataset") or None)
    if image is None:
        raise NotFound("No image is waiting for your rating right now.", rc="NoImagesToRate")
    return ok(image)


@routes.post("/api/v2/ratings/{image_id}")
async def ratings_rate(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, PoolRatingSpec)
    reward = await svc.rate_shared(user, request.match_info["image_id"], spec.rating, spec.artifacts,
                                   client_agent=client_agent(request))
    return ok({"reward": float(reward)})


@routes.get("/api/v2/stats/ratings")
async def ratings_stats(request: web.Request) -> web.Response:
    return ok(await service(request).rating_stats())
