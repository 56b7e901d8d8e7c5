"""Messages to workers (issue 16): AI Horde's /v2/workers/messages, and the `messages` of pop answers."""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

from aiohttp import web

from horde_core.service import BadRequest, HordeService, UserRow
from horde_core.service.admin_schemas import WorkerMessageSpec
from horde_core.service.worker_messages import WorkerMessageInfo

from .http import apikey, body, ok, service

routes = web.RouteTableDef()
BODIES = {("POST", "/api/v2/workers/messages"): WorkerMessageSpec}


def _date(ts: float) -> str:
    return formatdate(ts)  # RFC 822, as AI Horde's DateTime(dt_format="rfc822") writes it


def message_full(m: WorkerMessageInfo) -> dict[str, Any]:
    """ResponseModelMessage: AI Horde leaves out a null worker_id (a message to every worker)."""
    out: dict[str, Any] = {"id": m.id, "message": m.message, "origin": m.origin, "expiry": _date(m.expiry),
                           "user_id": str(m.user_id), "created": _date(m.created)}
    if m.worker_id:
        out["worker_id"] = m.worker_id
    return out


async def with_messages(svc: HordeService, answer: dict[str, Any], owner: UserRow, worker: str) -> dict[str, Any]:
    """A pop answer with the worker's live messages (ResponseModelMessagePop). The key is left out while there
    are none: horde-sdk 0.18.0's pop models do not declare it, and strict parsers refuse unknown keys."""
    found = await svc.messages_for_worker(owner, worker)
    if found:
        answer["messages"] = [{"id": m.id, "message": m.message, "origin": m.origin, "expiry": _date(m.expiry)}
                              for m in found]
    return answer


def _int_query(request: web.Request, name: str, default: int | None) -> int | None:
    raw = request.query.get(name, "")
    if not raw:
        return default
    if not raw.isdecimal() or len(raw) > 9:
        raise BadRequest(f"{name} must be a positive whole number.", rc="InvalidQuery")
    return int(raw)


@routes.get("/api/v2/workers/messages")
async def messages_list(request: web.Request) -> web.Response:
    """Messages to workers: moderators see all, others theirs and their workers'"""
    svc = service(request)
    viewer = await svc.authenticate(apikey(request), allow_anonymous=False)
    found = await svc.worker_messages(
        viewer, user_id=_int_query(request, "user_id", None), worker_id=request.query.get("worker_id") or None,
        validity=request.query.get("validity", "active") or "active", page=_int_query(request, "page", 1) or 1)
    return ok([message_full(m) for m in found])


@routes.post("/api/v2/workers/messages")
async def messages_post(request: web.Request) -> web.Response:
    """Write to a worker (moderators: to any, or to all; owners: to their own)"""
    svc = service(request)
    actor = await svc.authenticate(apikey(request), allow_anonymous=False)
    spec = await body(request, WorkerMessageSpec)
    return ok(message_full(await svc.post_worker_message(actor, spec)))


@routes.get("/api/v2/workers/messages/{message_id}")
async def message_single(request: web.Request) -> web.Response:
    """One message by its id"""
    return ok(message_full(await service(request).worker_message(request.match_info["message_id"])))


@routes.delete("/api/v2/workers/messages/{message_id}")
async def message_delete(request: web.Request) -> web.Response:
    """Delete a message (its writer or a moderator)"""
    svc = service(request)
    actor = await svc.authenticate(apikey(request), allow_anonymous=False)
    await svc.delete_worker_message(actor, request.match_info["message_id"])
    return ok({"message": "OK"})
