"""Logging in with an API key, and the member's own page: kudos, ledger, requests, workers, transfers."""

from __future__ import annotations

import secrets

from aiohttp import web

from horde_core.service import BadRequest, InvalidAPIKey, TooMany
from horde_core.service.schemas import WorkerModifySpec

from .keys import CONFIG
from .render import LOGIN_COOKIE, SESSION_COOKIE, form, render, svc, visitor

routes = web.RouteTableDef()
DONE = {"transfer": "Kudos sent.", "maintenance": "Worker updated.", "login": "Welcome back."}


def _cookie_args(request: web.Request, max_age: int | None) -> dict[str, object]:
    config = request.app[CONFIG]
    secure = config.web.cookie_secure or config.public_url.startswith("https://") or request.secure
    return {"httponly": True, "samesite": "Lax", "secure": secure, "path": "/", "max_age": max_age}


async def _login_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    response = await render(request, "login.html", {"error": error, "login_nonce": nonce}, status=status)
    response.set_cookie(LOGIN_COOKIE, nonce, **_cookie_args(request, 3600))  # type: ignore[arg-type]
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    if await visitor(request) is not None:
        raise web.HTTPSeeOther("/me")
    return await _login_page(request)


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    data = await request.post()
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or data.get("login_nonce") != nonce:
        return await _login_page(request, "This form has expired; please try again.", 403)
    try:
        _, token = await svc(request).web_login(str(data.get("apikey", "")), request.remote or "")
    except InvalidAPIKey as exc:
        return await _login_page(request, exc.message, 401)
    except TooMany as exc:
        return await _login_page(request, exc.message, 429)
    response = web.HTTPSeeOther("/me?done=login")
    response.set_cookie(SESSION_COOKIE, token, **_cookie_args(  # type: ignore[arg-type]
        request, int(request.app[CONFIG].web.session_hours * 3600)))
    response.del_cookie(LOGIN_COOKIE, path="/")
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    await form(request)
    response = web.HTTPSeeOther("/")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def _member(request: web.Request):  # type: ignore[no-untyped-def]
    user = await visitor(request)
    if user is None:
        raise web.HTTPSeeOther("/login")
    return user


@routes.get("/me")
async def account(request: web.Request) -> web.Response:
    user = await _member(request)
    before = request.query.get("before", "")
    page = await svc(request).account(user, before_id=int(before) if before.isdecimal() and len(before) < 19 else None)
    return await render(request, "account.html", {"account": page, "done": DONE.get(request.query.get("done", ""))})


@routes.post("/me/workers/{id}")
async def worker_switch(request: web.Request) -> web.Response:
    user = await _member(request)
    data = await form(request)
    spec = WorkerModifySpec(maintenance=data.get("maintenance") == "on")
    await svc(request).modify_worker(user, request.match_info["id"], spec)
    raise web.HTTPSeeOther("/me?done=maintenance#workers")


@routes.post("/me/transfer")
async def transfer(request: web.Request) -> web.Response:
    user = await _member(request)
    data = await form(request)
    amount = data.get("amount", "").strip()
    if not amount.isdecimal() or len(amount) > 12:
        raise BadRequest("Give the kudos to send as a whole number.", rc="KudosValidationError")
    await svc(request).transfer_kudos(user, data.get("username", "").strip(), int(amount), note="sent from the web")
    raise web.HTTPSeeOther("/me?done=transfer#transfers")
