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
