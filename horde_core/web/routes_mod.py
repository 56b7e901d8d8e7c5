"""Moderation pages (403 for everyone but the horde's moderators): users, workers, abuse, the prompt filter,
the upstream. Every change goes through a HordeService use case that writes the moderation log."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from aiohttp import web

from horde_core.service import BadRequest

from .render import form, render, svc, visitor

routes = web.RouteTableDef()
DONE = {"trust": "Trust changed.", "suspend": "Suspension changed.", "grant": "Kudos granted.",
        "worker": "Worker changed.", "lift": "Sanction lifted.", "terms": "The new terms are in force.",
        "unsuspend": "Suspension lifted."}


async def _moderator(request: web.Request):  # type: ignore[no-untyped-def]
    return svc(request).require_moderator(await visitor(request))


def _done(request: web.Request) -> str | None:
    return DONE.get(request.query.get("done", ""))


def _int(value: str, what: str) -> int:
    value = value.strip()
    if not value.lstrip("-").isdecimal() or len(value) > 12:
        raise BadRequest(f"{what} must be a whole number.", rc="InvalidForm")
    return int(value)


@routes.get("/mod")
async def users(request: web.Request) -> web.Response:
    await _moderator(request)
    query = request.query.get("q", "")[:100]
    found = await svc(request).search_users(query)
    return await render(request, "mod/users.html", {"query": query, "users": found, "done": _done(request)})


@routes.post("/mod/users/{id:[0-9]{1,9}}")
async def user_action(request: web.Request) -> web.Response:
    actor = await _moderator(request)
    data = await form(request)
    service, user_id, action = svc(request), int(request.match_info["id"]), data.get("action", "")
    if action in ("trust", "untrust"):
        await service.set_user_trusted(actor, user_id, action == "trust")
    elif action == "suspend":
        hours = data.get("hours", "").strip() or "0"
        try:
            length = float(hours)
        except ValueError:
            raise BadRequest("Hours must be a number (0: until lifted).", rc="InvalidForm") from None
        await service.suspend_user(actor, user_id, length, data.get("reason", "")[:300])
    elif action == "unsuspend":
        await service.suspend_user(actor, user_id, None)
    elif action == "grant":
        await service.moderator_grant(actor, user_id, _int(data.get("amount", ""), "The amount"),
                                      data.get("note", "")[:300])
    else:
        raise BadRequest("Unknown action.", rc="InvalidForm")
    back = {"done": "trust" if action == "untrust" else action, "q": data.get("q", "")[:100]}
    raise web.HTTPSeeOther(f"/mod?{urlencode({k: v for k, v in back.items() if v})}")


@routes.get("/mod/workers")
async def workers(request: web.Request) -> web.Response:
    await _moderator(request)
    rows = sorted(await svc(request).list_workers(), key=lambda w: (not w.online, w.name.casefold()))
    return await render(request, "mod/workers.html", {"workers": rows, "done": _done(request)})


@routes.post("/mod/workers/{id}")
async def worker_action(request: web.Request) -> web.Response:
    actor = await _moderator(request)
    data = await form(request)
    action = data.get("action", "")
    changes = {"flag": {"flagged": True}, "unflag": {"flagged": False}, "maintenance": {"maintenance": True},
               "resume": {"maintenance": False}}.get(action)
    if changes is None:
        raise BadRequest("Unknown action.", rc="InvalidForm")
    await svc(request).moderate_worker(actor, request.match_info["id"], **changes)
    raise web.HTTPSeeOther("/mod/workers?done=worker")


@routes.get("/mod/abuse")
async def abuse(request: web.Request) -> web.Response:
    await _moderator(request)
    return await render(request, "mod/abuse.html", {"abuse": await svc(request).abuse_overview(),
                                                    "done": _done(request)})


@routes.post("/mod/lift")
async def lift(request: web.Request) -> web.Response:
    actor = await _moderator(request)
    data = await form(request)
    await svc(request).lift_sanction(actor, data.get("key", "")[:220])
    raise web.HTTPSeeOther("/mod/abuse?done=lift")


@routes.get("/mod/filter")
async def prompt_filter(request: web.Request) -> web.Response:
    await _moderator(request)
    terms = json.dumps(await svc(request).filter_terms(), ensure_ascii=False, indent=1, sort_keys=True)
    return await render(request, "mod/filter.html", {"terms": terms, "tested": None, "prompt": "", "negative": "",
                                                     "done": _done(request)})


@routes.post("/mod/filter/test")
async def filter_test(request: web.Request) -> web.Response:
    await _moderator(request)
    data = await form(request)
    service = svc(request)
    prompt, negative = data.get("prompt", "")[:8000], data.get("negative", "")[:8000]
    terms = json.dumps(await service.filter_terms(), ensure_ascii=False, indent=1, sort_keys=True)
    tested = await service.test_prompt(prompt, negative)
    return await render(request, "mod/filter.html", {"terms": terms, "tested": tested, "prompt": prompt,
                                                     "negative": negative, "done": None})


@routes.post("/mod/filter")
async def filter_save(request: web.Request) -> web.Response:
    actor = await _moderator(request)
    data = await form(request)
    await svc(request).moderator_set_terms(actor, data.get("terms", ""))
    raise web.HTTPSeeOther("/mod/filter?done=terms")


@routes.get("/mod/upstream")
async def upstream(request: web.Request) -> web.Response:
    await _moderator(request)
    service = svc(request)
    return await render(request, "mod/upstream.html", {"report": await service.upstream_report(7),
                                                       "up": service.config.upstream})
