"""The OpenAPI document is generated from the route table and the request schemas."""

from __future__ import annotations

import aiohttp

from horde_core.service import HordeService


async def test_swagger_lists_every_route_with_its_schema(service: HordeService, server) -> None:
    async with aiohttp.ClientSession() as http, http.get(server.make_url("/api/swagger.json")) as r:
        doc = await r.json()
    assert r.status == 200 and doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path in ("/api/v2/generate/async", "/api/v2/generate/pop", "/api/v2/generate/text/async",
                 "/api/v2/interrogate/async", "/api/v2/status/models/{name}", "/api/v2/workers/{id}"):
        assert path in paths, path
    body = paths["/api/v2/generate/async"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = doc["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    assert "prompt" in schema["properties"] and "params" in schema["properties"]
    width = doc["components"]["schemas"]["ImageParams"]["properties"]["width"]
    assert width["multipleOf"] == 64 and width["maximum"] == 3072
    assert set(paths["/api/v2/workers/{id}"]) == {"get", "put"}


async def test_swagger_is_valid_for_the_version_it_declares(service: HordeService, server) -> None:
    """Validators (and fuzzers built on them) rejected the document: it said 3.0.3 but used 3.1 schemas."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    async with aiohttp.ClientSession() as http, http.get(server.make_url("/api/swagger.json")) as r:
        doc = await r.json()
    cls = OpenAPIV31SpecValidator if doc["openapi"].startswith("3.1") else OpenAPIV30SpecValidator
    validate(doc, cls=cls)
    for path, ops in doc["paths"].items():
        for op in ops.values():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == {seg.strip("{}") for seg in path.split("/") if seg.startswith("{")}, path
