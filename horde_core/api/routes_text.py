"""Text generation endpoints (KoboldAI-compatible) and text statistics."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from horde_core.service import PoppedJob, RequestStatus
from horde_core.service.schemas import TextPopSpec, TextRequestSpec, TextSubmitSpec

from . import format as fmt
from .http import apikey, body, client_agent, ipaddr, ok, service
from .routes_messages import with_messages

routes = web.RouteTableDef()

TEXT_SKIP_KEYS = frozenset({"blacklist", "bridge_version", "kudos", "models", "nsfw", "performance", "untrusted",
                            "worker_id", "max_context_length", "max_length", "matching_softprompt"})
# The KoboldAI payload a worker reads (AI Horde `ModelPayloadKobold`): client params the horde does not know
# are ignored, not forwarded (strict workers reject unknown keys).
TEXT_PAYLOAD_KEYS = frozenset({
    "prompt", "n", "max_length", "max_context_length", "temperature", "top_p", "top_k", "top_a", "typical", "tfs",
    "min_p", "rep_pen", "rep_pen_range", "rep_pen_slope", "sampler_order", "stop_sequence", "singleline",
    "use_default_badwordsids", "smoothing_factor", "dynatemp_range", "dynatemp_exponent", "frmtadsnsp",
    "frmtrmblln", "frmtrmspch", "frmttriminc",
})


def text_status(s: RequestStatus) -> dict[str, Any]:
    out = fmt.progress(s.progress)
    gens = []
    for g in s.generations:
        # AI Horde's GenerationKobold: these fields, gen_metadata always (an empty list when there is none).
        gens.append({"text": g.text, "seed": int(g.seed) if g.seed.lstrip("-").isdecimal() else 0,
                     "model": g.model, "state": g.state, "worker_id": g.worker_id, "worker_name": g.worker_name,
                     "gen_metadata": g.gen_metadata})
    out["generations"] = gens
    return out


def text_pop(job: PoppedJob) -> dict[str, Any]:
    """The KoboldAI bridge indexes id, ids, payload, skipped and softprompt even when there is no job."""
    skipped = {k: v for k, v in job.skipped.items() if k in TEXT_SKIP_KEYS}
    if not job.ids:
        return {"id": None, "ids": [], "payload": {}, "skipped": skipped, "softprompt": None}
    payload = {k: v for k, v in job.payload.items() if k in TEXT_PAYLOAD_KEYS}
    return {"id": job.ids[0], "ids": job.ids, "payload": payload, "skipped": skipped,
            "softprompt": job.softprompt, "model": job.model, "ttl": job.ttl}


@routes.post("/api/v2/generate/text/async")
async def text_async(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_shared=True)
    spec = await body(request, TextRequestSpec, large=True)
    accepted = await svc.request_text(user, spec, client_agent=client_agent(request), ipaddr=ipaddr(request))
    if accepted.id is None:
        return ok({"kudos": float(accepted.kudos)})
    return ok({"id": accepted.id, "kudos": float(accepted.kudos)}, status=202)


@routes.get("/api/v2/generate/text/status/{id}")
async def text_status_get(request: web.Request) -> web.Response:
    return ok(text_status(await service(request).status(request.match_info["id"], "text")))


@routes.delete("/api/v2/generate/text/status/{id}")
async def text_cancel(request: web.Request) -> web.Response:
    return ok(text_status(await service(request).cancel(request.match_info["id"], "text")))


@routes.post("/api/v2/generate/text/pop")
async def text_pop_post(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, TextPopSpec)
    popped = text_pop(await svc.pop_text(user, spec, ipaddr=ipaddr(request)))
    return ok(await with_messages(svc, popped, user, spec.name))


@routes.post("/api/v2/generate/text/submit")
async def text_submit(request: web.Request) -> web.Response:
    svc = service(request)
    user = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, TextSubmitSpec, large=True)
    return ok({"reward": float(await svc.submit_text(user, spec))})


@routes.get("/api/v2/stats/text/models")
async def text_model_stats(request: web.Request) -> web.Response:
    return ok(await service(request).model_stats("text"))


@routes.get("/api/v2/stats/text/totals")
async def text_totals(request: web.Request) -> web.Response:
    totals = await service(request).totals("text")
    return ok({period: {"requests": v["jobs"], "tokens": v["units"]} for period, v in totals.items()})
