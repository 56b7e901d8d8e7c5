"""Status, users, workers, kudos and statistics endpoints."""

from __future__ import annotations

from urllib.parse import unquote

from aiohttp import web

from horde_core.service import BadRequest, NotFound
from horde_core.service.schemas import TransferSpec, WorkerModifySpec

from . import format as fmt
from .format_users import user_details
from .http import apikey, body, ok, service

routes = web.RouteTableDef()
VERSION = "4.44.0"
MODEL_STATES = ("all", "known", "custom")


def _model_args(request: web.Request) -> tuple[str, str]:
    kind = request.query.get("type", "image") or "image"
    state = request.query.get("model_state", "all") or "all"
    if kind not in ("image", "text") or state not in MODEL_STATES:
        raise BadRequest("type must be image or text; model_state all, known or custom.", rc="InvalidQuery")
    return kind, state


@routes.get("/api/v2/status/heartbeat")
async def heartbeat(request: web.Request) -> web.Response:
    return ok({"message": "OK", "version": VERSION})


@routes.get("/api/v2/status/models")
async def models(request: web.Request) -> web.Response:
    kind, state = _model_args(request)
    return ok([fmt.model(m) for m in await service(request).models_status(kind, state)])


@routes.get("/api/v2/status/models/{name:.+}")
async def model_single(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    while unquote(name) != name:  # some clients encode the name twice
        name = unquote(name)
    svc = service(request)
    for kind in ("image", "text"):
        found = [fmt.model(m) for m in await svc.models_status(kind) if m.name == name]
        if found:
            return ok(found)
    return ok([])


@routes.get("/api/v2/status/performance")
async def performance(request: web.Request) -> web.Response:
    return ok(await service(request).performance())


@routes.get("/api/v2/status/news")
async def news(request: web.Request) -> web.Response:
    return ok(service(request).news())


@routes.get("/api/v2/find_user")
async def find_user(request: web.Request) -> web.Response:
    svc = service(request)
    try:
        user = await svc.authenticate(apikey(request), allow_anonymous=True)
    except Exception as exc:  # an unknown key is "no such user" here, as clients expect
        raise NotFound("No user found with this API key.", rc="UserNotFound") from exc
    return ok(user_details(await svc.user_details(user, user.id), svc.clock.now()))


@routes.get("/api/v2/workers")
async def workers(request: web.Request) -> web.Response:
    kind = request.query.get("type", "")
    if kind not in ("", "image", "text", "interrogation"):
        raise BadRequest("type must be image, text or interrogation.", rc="InvalidQuery")
    found = await service(request).list_workers(kind or None)
    name = request.query.get("name", "").strip().casefold()
    if name:  # horde-sdk's workers_all_details(worker_name): an exact, case-insensitive match
        found = [w for w in found if w.name.casefold() == name]
    return ok([fmt.worker(w) for w in found])


@routes.get("/api/v2/workers/name/{name:.+}")
async def worker_by_name(request: web.Request) -> web.Response:
    return ok(fmt.worker(await service(request).get_worker(name=unquote(request.match_info["name"]))))


@routes.get("/api/v2/workers/{id}")
async def worker_by_id(request: web.Request) -> web.Response:
    return ok(fmt.worker(await service(request).get_worker(request.match_info["id"])))


@routes.put("/api/v2/workers/{id}")
async def worker_modify(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, WorkerModifySpec)
    return ok(await svc.modify_worker(user, request.match_info["id"], spec))


@routes.post("/api/v2/kudos/transfer")
async def kudos_transfer(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, TransferSpec)
    return ok({"transferred": float(await svc.transfer_kudos(user, spec.username, spec.amount))})


@routes.get("/api/v2/stats/img/models")
async def img_model_stats(request: web.Request) -> web.Response:
    state = request.query.get("model_state", "all") or "all"
    if state not in MODEL_STATES:
        raise BadRequest("model_state must be all, known or custom.", rc="InvalidQuery")
    return ok(await service(request).model_stats("image", state))


@routes.get("/api/v2/stats/img/totals")
async def img_totals(request: web.Request) -> web.Response:
    totals = await service(request).totals("image")
    return ok({period: {"images": v["jobs"], "ps": v["units"]} for period, v in totals.items()})
