"""The aiohttp adapter: one route table under /api/v2, thin handlers, JSON errors."""

from __future__ import annotations

import logging

from aiohttp import http_exceptions, web

from horde_core.config import AppConfig
from horde_core.service import HordeService

from .bodies import BodyGate
from .errors import error_middleware
from .fetch import fetch_image
from .http import BODIES, CONFIG, PROXIES, SERVICE, trusted_networks
from .openapi import openapi_document
from .routes_alchemy import routes as alchemy_routes
from .routes_documents import routes as document_routes
from .routes_filters import routes as filter_routes
from .routes_image import routes as image_routes
from .routes_info import routes as info_routes
from .routes_messages import routes as message_routes
from .routes_ratings import routes as rating_routes
from .routes_sharing import routes as sharing_routes
from .routes_styles import routes as style_routes
from .routes_text import routes as text_routes
from .routes_users import routes as user_routes
from .webhook_post import post_webhook, webhook_sender


def create_app(service: HordeService, config: AppConfig) -> web.Application:
    limit = max(config.api.max_body_bytes, config.api.max_upload_bytes) + 1024
    app = web.Application(middlewares=[error_middleware], client_max_size=limit)
    app[SERVICE] = service
    app[CONFIG] = config
    app[BODIES] = BodyGate(config.api.large_bodies_at_once, config.api.large_body_wait)
    app[PROXIES] = trusted_networks(config.api.trusted_proxies)
    app.add_routes(message_routes)  # before /workers/{id}, which would take /workers/messages
    app.add_routes(image_routes)
    app.add_routes(info_routes)
    app.add_routes(text_routes)
    app.add_routes(alchemy_routes)
    app.add_routes(rating_routes)
    app.add_routes(style_routes)
    app.add_routes(user_routes)
    app.add_routes(document_routes)
    app.add_routes(filter_routes)
    app.add_routes(sharing_routes)
    if service.fetch_url is None:
        service.fetch_url = fetch_image
    if service.webhook_post is None:
        service.webhook_post = post_webhook
    app.cleanup_ctx.append(webhook_sender(service))
    document = openapi_document(app, config)

    async def swagger(_: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get("/api/swagger.json", swagger)
    return app


class _OneLine(logging.Filter):
    """aiohttp logs a full ERROR traceback for every malformed request and dropped connection; a client can
    write hundreds. Those become one INFO line each (real errors inside handlers are logged by the error
    middleware, with their traceback)."""

    NOISE = (http_exceptions.HttpProcessingError, ConnectionError, TimeoutError)

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, self.NOISE):
            record.msg = f"{record.getMessage()}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            record.args, record.exc_info, record.exc_text = (), None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


PROTOCOL_LOG = "horde_core.api.protocol"


def runner_options(config: AppConfig) -> dict[str, object]:
    """How the HTTP server treats connections: idle ones (no request yet, or between requests, or headers
    that never finish) are closed after `api.idle_timeout`; a client that goes away does not cancel the
    use case it started (its transaction finishes, the answer is dropped); protocol noise is one line."""
    logger = logging.getLogger(PROTOCOL_LOG)
    if not any(isinstance(f, _OneLine) for f in logger.filters):
        logger.addFilter(_OneLine())
    return {"keepalive_timeout": config.api.idle_timeout, "access_log": None, "logger": logger}


__all__ = ["create_app", "runner_options"]
