"""An OpenAPI 3.1 document built from the route table and the request schemas.

3.1, because its schemas are JSON Schema 2020-12, which is what pydantic writes (`anyOf` with `null`,
numeric `exclusiveMinimum`); `tests/api/test_openapi.py` validates it with openapi-spec-validator.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from horde_core.config import AppConfig
from horde_core.service.schemas import (
    AlchemyPopSpec,
    AlchemyRequestSpec,
    AlchemySubmitSpec,
    ImagePopSpec,
    ImageRequestSpec,
    PoolRatingSpec,
    RateSpec,
    SubmitSpec,
    TextPopSpec,
    TextRequestSpec,
    TextSubmitSpec,
    TransferSpec,
    WorkerModifySpec,
)
from horde_core.service.sharing_specs import SharedKeyModifySpec, SharedKeySpec, TeamCreateSpec, TeamModifySpec

from .routes_filters import BODIES as FILTER_BODIES
from .routes_messages import BODIES as MESSAGE_BODIES
from .routes_styles import BODIES as STYLE_BODIES
from .routes_users import BODIES as USER_BODIES

REQUEST_BODIES = {
    ("POST", "/api/v2/generate/async"): ImageRequestSpec,
    ("POST", "/api/v2/generate/pop"): ImagePopSpec,
    ("POST", "/api/v2/generate/submit"): SubmitSpec,
    ("POST", "/api/v2/generate/text/async"): TextRequestSpec,
    ("POST", "/api/v2/generate/text/pop"): TextPopSpec,
    ("POST", "/api/v2/generate/text/submit"): TextSubmitSpec,
    ("POST", "/api/v2/interrogate/async"): AlchemyRequestSpec,
    ("POST", "/api/v2/interrogate/pop"): AlchemyPopSpec,
    ("POST", "/api/v2/interrogate/submit"): AlchemySubmitSpec,
    ("POST", "/api/v2/generate/rate/{id}"): RateSpec,
    ("POST", "/api/v2/ratings/{image_id}"): PoolRatingSpec,
    ("POST", "/api/v2/kudos/transfer"): TransferSpec,
    ("PUT", "/api/v2/workers/{id}"): WorkerModifySpec,
    **STYLE_BODIES,
    **USER_BODIES,
    **MESSAGE_BODIES,
    **FILTER_BODIES,
    ("PUT", "/api/v2/sharedkeys"): SharedKeySpec,
    ("PATCH", "/api/v2/sharedkeys/{sharedkey_id}"): SharedKeyModifySpec,
    ("POST", "/api/v2/teams"): TeamCreateSpec,
    ("PATCH", "/api/v2/teams/{team_id}"): TeamModifySpec,
}


_ERROR_BODY = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_ERRORS = {status: {"description": text, **_ERROR_BODY} for status, text in (
    ("400", "Bad input"), ("401", "Unknown API key"), ("403", "Not allowed"), ("404", "Not found"),
    ("408", "The body took too long"), ("413", "Body too large"), ("429", "Too many requests"),
    ("503", "Busy, or storage full; retry later"))}
ERROR_SCHEMA = {"type": "object", "required": ["message", "rc"],
                "properties": {"message": {"type": "string"}, "rc": {"type": "string"},
                               "errors": {"type": "object", "additionalProperties": {"type": "string"}}}}


def _plain(path: str) -> str:
    """`/a/{name:regex}/b` as OpenAPI writes it: `/a/{name}/b` (no route regex contains a slash)."""
    return "/".join("{" + seg[1:-1].split(":", 1)[0] + "}" if seg.startswith("{") and seg.endswith("}") else seg
                    for seg in path.split("/"))


def openapi_document(app: web.Application, config: AppConfig) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if not path or route.method == "HEAD":
            continue
        clean = _plain(path)
        op: dict[str, Any] = {
            "summary": (route.handler.__doc__ or route.handler.__name__).strip().split("\n")[0],
            "operationId": route.handler.__name__,
            "responses": {"200": {"description": "OK"}, **_ERRORS},
        }
        params = [p.strip("{}").split(":")[0] for p in clean.split("/") if p.startswith("{")]
        if params:
            op["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                                for p in params]
        model = REQUEST_BODIES.get((route.method, clean))
        if model is not None:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in schema.pop("$defs", {}).items():
                schemas[name] = sub
            schemas[model.__name__] = schema
            op["requestBody"] = {"content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}
        paths.setdefault(clean, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{config.core.horde_name} horde API", "version": "2"},
        "servers": [{"url": config.public_url}],
        "components": {"schemas": schemas,
                       "securitySchemes": {"apikey": {"type": "apiKey", "in": "header", "name": "apikey"}}},
        "paths": paths,
    }
