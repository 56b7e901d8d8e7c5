"""Styles and collections (AI Horde's /v2/styles/... and /v2/collections): thin handlers over
service/styles.py and service/style_collections.py, answering in AI Horde's shapes."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from horde_core.service import BadRequest
from horde_core.service.style_specs import (
    CollectionPatchSpec,
    CollectionSpec,
    StyleExamplePatchSpec,
    StyleExampleSpec,
    StylePatchSpec,
    StyleSpec,
)

from .http import apikey, body, ok, service

routes = web.RouteTableDef()
KIND = "{kind:image|text}"

# Request bodies per route, for the OpenAPI document (api/openapi.py).
BODIES = {
    ("POST", "/api/v2/styles/{kind}"): StyleSpec,
    ("PATCH", "/api/v2/styles/{kind}/{style_id}"): StylePatchSpec,
    ("POST", "/api/v2/styles/image/{style_id}/example"): StyleExampleSpec,
    ("PATCH", "/api/v2/styles/image/{style_id}/example/{example_id}"): StyleExamplePatchSpec,
    ("POST", "/api/v2/collections"): CollectionSpec,
    ("PATCH", "/api/v2/collections/{collection_id}"): CollectionPatchSpec,
}


def style_json(style: Any) -> dict[str, Any]:
    """StyleStable / StyleKobold: text styles have no examples."""
    data = {"id": style.id, "name": style.name, "info": style.info, "prompt": style.prompt,
            "params": style.params, "public": style.public, "nsfw": style.nsfw, "tags": style.tags,
            "models": style.models, "use_count": style.use_count, "creator": style.creator}
    if style.kind == "image":
        data["examples"] = [{"id": e.id, "url": e.url, "primary": e.primary} for e in style.examples]
    return data


def collection_json(collection: Any) -> dict[str, Any]:
    """ResponseModelCollection."""
    return {"id": collection.id, "name": collection.name, "type": collection.kind, "info": collection.info,
            "public": collection.public, "use_count": collection.use_count, "creator": collection.creator,
            "styles": [{"id": sid, "name": name} for sid, name in collection.styles]}


def _modified(thing_id: str) -> web.Response:
    """StyleModify."""
    return ok({"id": thing_id, "message": "OK", "warnings": []})


def _page(request: web.Request) -> int:
    text = request.query.get("page", "1")
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 10_000:
        raise BadRequest("'page' is a whole number from 1.")
    return int(text)


async def _caller(request: web.Request):  # type: ignore[no-untyped-def]
    return await service(request).authenticate(apikey(request), allow_anonymous=False)


@routes.get(f"/api/v2/styles/{KIND}")
async def styles_list(request: web.Request) -> web.Response:
    """Public styles of a kind: sort=popular|age, page (25 a page), tag, model."""
    q = request.query
    styles = await service(request).list_styles(request.match_info["kind"], sort=q.get("sort", "popular"),
                                                page=_page(request), tag=q.get("tag"), model=q.get("model"))
    return ok([style_json(s) for s in styles])


@routes.post(f"/api/v2/styles/{KIND}")
async def styles_create(request: web.Request) -> web.Response:
    """Create a style (customizers and moderators)."""
    user = await _caller(request)
    spec = await body(request, StyleSpec)
    return _modified(await service(request).create_style(user, request.match_info["kind"], spec))


@routes.get("/api/v2/styles/image_by_name/{style_name}")
async def styles_image_by_name(request: web.Request) -> web.Response:
    """An image style by name (`name`, `creator::name`, `style::creator::name`)."""
    return ok(style_json(await service(request).get_style_by_name("image", request.match_info["style_name"])))


@routes.get("/api/v2/styles/text_by_name/{style_name}")
async def styles_text_by_name(request: web.Request) -> web.Response:
    """A text style by name."""
    return ok(style_json(await service(request).get_style_by_name("text", request.match_info["style_name"])))


@routes.get(f"/api/v2/styles/{KIND}/{{style_id}}")
async def styles_get(request: web.Request) -> web.Response:
    return ok(style_json(await service(request).get_style(request.match_info["kind"],
                                                          request.match_info["style_id"])))


@routes.patch(f"/api/v2/styles/{KIND}/{{style_id}}")
async def styles_patch(request: web.Request) -> web.Response:
    """Change a style (its creator, or a moderator)."""
    user = await _caller(request)
    spec = await body(request, StylePatchSpec)
    svc = service(request)
    return _modified(await svc.patch_style(user, request.match_info["kind"], request.match_info["style_id"], spec))


@routes.delete(f"/api/v2/styles/{KIND}/{{style_id}}")
async def styles_delete(request: web.Request) -> web.Response:
    user = await _caller(request)
    await service(request).delete_style(user, request.match_info["kind"], request.match_info["style_id"])
    return ok({"message": "OK"})


@routes.post("/api/v2/styles/image/{style_id}/example")
async def style_example_add(request: web.Request) -> web.Response:
    """Add an example image (an https URL) to an image style; at most 4."""
    user = await _caller(request)
    spec = await body(request, StyleExampleSpec)
    return _modified(await service(request).add_style_example(user, request.match_info["style_id"], spec))


@routes.patch("/api/v2/styles/image/{style_id}/example/{example_id}")
async def style_example_patch(request: web.Request) -> web.Response:
    user = await _caller(request)
    spec = await body(request, StyleExamplePatchSpec)
    m = request.match_info
    return _modified(await service(request).patch_style_example(user, m["style_id"], m["example_id"], spec))


@routes.delete("/api/v2/styles/image/{style_id}/example/{example_id}")
async def style_example_delete(request: web.Request) -> web.Response:
    user = await _caller(request)
    await service(request).delete_style_example(user, request.match_info["style_id"], request.match_info["example_id"])
    return ok({"message": "OK"})


@routes.get("/api/v2/collections")
async def collections_list(request: web.Request) -> web.Response:
    """Public collections: sort=popular|age, page, type=all|image|text."""
    q = request.query
    found = await service(request).list_collections(sort=q.get("sort", "popular"), page=_page(request),
                                                    kind=q.get("type", "all"))
    return ok([collection_json(c) for c in found])


@routes.post("/api/v2/collections")
async def collections_create(request: web.Request) -> web.Response:
    """Create a collection of styles of one kind (customizers and moderators)."""
    user = await _caller(request)
    spec = await body(request, CollectionSpec)
    return _modified(await service(request).create_collection(user, spec))


@routes.get("/api/v2/collections/{collection_id}")
async def collections_get(request: web.Request) -> web.Response:
    return ok(collection_json(await service(request).get_collection(request.match_info["collection_id"])))


@routes.get("/api/v2/collection_by_name/{collection_name}")
async def collections_by_name(request: web.Request) -> web.Response:
    return ok(collection_json(await service(request).get_collection_by_name(request.match_info["collection_name"])))


@routes.patch("/api/v2/collections/{collection_id}")
async def collections_patch(request: web.Request) -> web.Response:
    user = await _caller(request)
    spec = await body(request, CollectionPatchSpec)
    return _modified(await service(request).patch_collection(user, request.match_info["collection_id"], spec))


@routes.delete("/api/v2/collections/{collection_id}")
async def collections_delete(request: web.Request) -> web.Response:
    user = await _caller(request)
    await service(request).delete_collection(user, request.match_info["collection_id"])
    return ok({"message": "OK"})
