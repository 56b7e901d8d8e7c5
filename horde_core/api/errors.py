"""Every error leaves as JSON `{"message", "rc"}`: 4xx for what a caller did wrong, 503 while storage is
full or read-only (it recovers by itself once space is freed); nothing a caller sends can cause a 500."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import ValidationError

from horde_core.db import storage_failure
from horde_core.service import HordeError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_RC = {400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed", 408: "RequestTimeout",
            413: "PayloadTooLarge", 415: "UnsupportedMediaType"}


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


def _nul_in_address(request: web.Request) -> bool:
    return "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.query.items())


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        if _nul_in_address(request):
            return error_json(400, "NUL characters are not allowed in a URL.", "InvalidCharacters")
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
    except (ConnectionResetError, web.RequestPayloadError) as exc:
        # The client went away mid-body (or sent a broken one): one line, no traceback; nobody reads the answer.
        log.info("%s %s: the client dropped the request (%s)", request.method, request.path, type(exc).__name__)
        return error_json(400, "The request body was cut off.", "IncompleteBody")
    except Exception as exc:
        failure = storage_failure(exc)
        if failure is not None:
            log.warning("%s %s: storage unavailable: %s", request.method, request.path, failure)
            return error_json(503, f"The horde cannot store anything right now ({failure}); retry later.",
                              "StorageUnavailable")
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_json(500, "Internal error; it has been logged.", "InternalServerError")
