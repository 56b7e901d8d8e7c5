"""Typed application keys of the web adapter (no globals)."""

from __future__ import annotations

from aiohttp import web

from horde_core.config import AppConfig
from horde_core.service import HordeService

from .metrics import HordeMetrics

SERVICE = web.AppKey("web_service", HordeService)
CONFIG = web.AppKey("web_config", AppConfig)
METRICS = web.AppKey("web_metrics", HordeMetrics)
# The status board the charts (and the anonymous status pages) were last drawn for, with what was drawn.
CHARTS = web.AppKey("web_charts", dict)
