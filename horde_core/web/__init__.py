"""The web adapter (issue 15): server-rendered pages and /metrics on the API's aiohttp app.

    app = create_app(service, config)      # the API
    setup_web(app, service, config)        # the pages, /static, /metrics, security headers, latency histograms

Pages are Jinja2 templates (autoescape on) shipped in this package with their stylesheet; no JavaScript and
nothing from a CDN. Handlers parse, call HordeService, and render; errors become HTML pages here (the API's JSON
error middleware stays outside and keeps answering /api/ paths).
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from horde_core.config import AppConfig
from horde_core.service import HordeError, HordeService

from .keys import CHARTS, CONFIG, METRICS, SERVICE
from .metrics import CONTENT_TYPE, HordeMetrics, timed
from .render import render, setup_templates
from .routes_account import routes as account_routes
from .routes_mod import routes as mod_routes
from .routes_public import routes as public_routes

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def _csp(config: AppConfig) -> str:
    images = "'self' data:"
    origin = urlsplit(config.public_url)
    if origin.scheme and origin.netloc:
        images += f" {origin.scheme}://{origin.netloc}"
    return (f"default-src 'none'; style-src 'self'; img-src {images}; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")


def _secure(response: web.StreamResponse, csp: str) -> None:
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"


def _middleware(metrics: HordeMetrics, config: AppConfig):  # type: ignore[no-untyped-def]
    csp = _csp(config)

    @web.middleware
    async def pages(request: web.Request, handler) -> web.StreamResponse:  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return await timed(metrics, request, handler)
        try:
            if request.method == "POST" and not _same_origin(request):
                raise HordeError("This form was sent from another site.", rc="CrossOrigin", status=403)
            response = await handler(request)
        except HordeError as exc:
            response = await _error_page(request, exc.status, exc.message)
        except web.HTTPException as exc:
            if exc.status < 400:
                _secure(exc, csp)
                raise
            response = await _error_page(request, exc.status, exc.reason or "Error")
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            response = await _error_page(request, 500, "Internal error; it has been logged.")
        _secure(response, csp)
        return response

    return pages


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


async def _error_page(request: web.Request, status: int, message: str) -> web.Response:
    try:
        return await render(request, "error.html", {"status": status, "message": message}, status=status)
    except Exception:  # the page itself failed (e.g. the database is down): say so plainly
        log.exception("error page failed")
        return web.Response(text=f"{status}: {message}", status=status)


def setup_web(app: web.Application, service: HordeService, config: AppConfig) -> None:
    """Mount the pages and /metrics on the API's app (before it starts)."""
    metrics = HordeMetrics(service)
    app[SERVICE], app[CONFIG], app[METRICS], app[CHARTS] = service, config, metrics, {}
    app.middlewares.append(_middleware(metrics, config))
    if config.web.metrics:
        async def scrape(_: web.Request) -> web.Response:
            return web.Response(body=await metrics.scrape(), headers={"Content-Type": CONTENT_TYPE})

        app.router.add_get("/metrics", scrape)
    if config.web.enabled:
        setup_templates(app, service)
        app.add_routes(public_routes)
        app.add_routes(account_routes)
        app.add_routes(mod_routes)
        app.router.add_static("/static/", STATIC)


__all__ = ["setup_web"]
