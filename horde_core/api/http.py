"""Small request helpers shared by the route modules: the service, the caller, the body."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

from horde_core.config import AppConfig
from horde_core.service import BadRequest, HordeService

SERVICE = web.AppKey("service", HordeService)
CONFIG = web.AppKey("config", AppConfig)

M = TypeVar("M", bound=BaseModel)


def service(request: web.Request) -> HordeService:
    return request.app[SERVICE]


def apikey(request: web.Request) -> str | None:
    return request.headers.get("apikey")


def client_agent(request: web.Request) -> str:
    return request.headers.get("Client-Agent") or request.headers.get("client_agent") or ""


def ipaddr(request: web.Request) -> str:
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.remote or ""


async def body(request: web.Request, model: type[M]) -> M:
    """Parse and validate a JSON body; size, syntax and shape errors all become 4xx."""
    limit = request.app[CONFIG].api.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise BadRequest(f"Body larger than {limit} bytes.", rc="PayloadTooLarge", status=413)
    raw = await request.read()
    if len(raw) > limit:
        raise BadRequest(f"Body larger than {limit} bytes.", rc="PayloadTooLarge", status=413)
    data: Any = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.", rc="InvalidJSON")
    return model.model_validate(data)


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)
