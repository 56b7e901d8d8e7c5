"""An OpenAPI 3 document built from the route table and the request schemas."""

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
}


def openapi_document(app: web.Application, config: AppConfig) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if not path or route.method == "HEAD":
            continue
        clean = path.replace("{name:.+}", "{name}").replace("{folder:[a-z]+}", "{folder}")
        clean = clean.replace(r"{name:[0-9a-f-]{36}\.webp}", "{name}")
        op: dict[str, Any] = {
            "summary": (route.handler.__doc__ or route.handler.__name__).strip().split("\n")[0],
            "operationId": route.handler.__name__,
            "responses": {"200": {"description": "OK"},
                          "400": {"description": "Bad input: {message, rc}"}},
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
        "openapi": "3.0.3",
        "info": {"title": f"{config.core.horde_name} horde API", "version": "2"},
        "servers": [{"url": config.public_url}],
        "components": {"schemas": schemas,
                       "securitySchemes": {"apikey": {"type": "apiKey", "in": "header", "name": "apikey"}}},
        "paths": paths,
    }
