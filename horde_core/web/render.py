"""Page rendering: the Jinja environment (autoescape on), the visitor (session cookie), forms and their CSRF
token, sortable tables, and the filters templates use to show times and numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from horde_core.service import HordeService
from horde_core.users.repo import UserRow

from .keys import CONFIG, SERVICE

SESSION_COOKIE = "horde_session"
LOGIN_COOKIE = "horde_login"  # a random value the login form echoes (double submit), against login CSRF
VISITOR = web.RequestKey("web_visitor", object)


def setup_templates(app: web.Application, service: HordeService) -> None:
    env = aiohttp_jinja2.setup(app, loader=jinja2.PackageLoader("horde_core.web", "templates"), autoescape=True,
                               trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters.update(ago=lambda ts: ago(ts, service.clock.now()), when=when, duration=duration, num=num)


def svc(request: web.Request) -> HordeService:
    return request.app[SERVICE]


async def visitor(request: web.Request) -> UserRow | None:
    """The logged-in user (one read per page view; none without a session cookie)."""
    if VISITOR in request:
        return request[VISITOR]  # type: ignore[return-value]
    user = await svc(request).web_session_user(request.cookies.get(SESSION_COOKIE))
    request[VISITOR] = user
    return user


async def render(request: web.Request, template: str, context: Mapping[str, Any], *, status: int = 200
                 ) -> web.Response:
    service = svc(request)
    user = await visitor(request)
    token = request.cookies.get(SESSION_COOKIE) if user is not None else None
    page = {"me": user, "admin": bool(user and service.is_web_admin(user)),
            "csrf": service.csrf_token(token) if token else "", "horde_name": request.app[CONFIG].core.horde_name,
            "gallery_on": request.app[CONFIG].web.gallery, "path": request.path, **context}
    response = aiohttp_jinja2.render_template(template, request, page, status=status)
    if user is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


async def form(request: web.Request) -> Mapping[str, str]:
    """A posted form from a logged-in page: its CSRF token must match the session's."""
    data = await request.post()
    svc(request).check_csrf(request.cookies.get(SESSION_COOKIE), str(data.get("csrf", "")))
    return {k: str(v) for k, v in data.items() if isinstance(v, str)}


def sort_rows(request: web.Request, rows: Sequence[Any], columns: Mapping[str, Callable[[Any], Any]],
              default: str, *, descending: bool = False) -> tuple[list[Any], str, str]:
    """Rows sorted by ?sort=COLUMN&order=asc|desc (unknown values fall back to the default)."""
    column = request.query.get("sort", default)
    if column not in columns:
        column = default
    order = request.query.get("order", "desc" if descending else "asc")
    if order not in ("asc", "desc"):
        order = "asc"
    return sorted(rows, key=columns[column], reverse=order == "desc"), column, order


def ago(ts: float | None, now: float) -> str:
    if not ts:
        return "never"
    seconds = max(0, int(now - ts))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if ts else "-"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = int(seconds)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def num(value: float | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value != int(value):
        return f"{value:,.1f}"
    return f"{int(value):,}"
