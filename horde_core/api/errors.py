"""Every error leaves as 4xx JSON `{"message", "rc"}`; nothing a caller sends can cause a 500."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import ValidationError

from horde_core.service import HordeError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_RC = {400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge",
            415: "UnsupportedMediaType"}


def error_json(status: int, message: str, rc: str, errors: dict[str, str] | None = None) -> web.Response:
    body: dict[str, object] = {"message": message, "rc": rc}
    if errors:
        body["errors"] = errors
    return web.json_response(body, status=status)


def validation_errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(p) for p in err["loc"]) or "body"
        out[field] = err["msg"]
    return out


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except HordeError as exc:
        return error_json(exc.status, exc.message, exc.rc, exc.errors)
    except ValidationError as exc:
        errors = validation_errors(exc)
        return error_json(400, "Input payload validation failed: " + "; ".join(
            f"{k}: {v}" for k, v in errors.items()), "ValidationError", errors)
    except json.JSONDecodeError:
        return error_json(400, "The body is not valid JSON.", "InvalidJSON")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_json(exc.status, exc.reason or "Error", _HTTP_RC.get(exc.status, f"HTTP{exc.status}"))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_json(500, "Internal error; it has been logged.", "InternalServerError")
