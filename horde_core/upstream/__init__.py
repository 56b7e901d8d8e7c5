"""Upstream mode: a public AI Horde as one more source of workers, kept clean of abuse (issue 8)."""

from horde_core.config import AppConfig

from .client import Refused, UpstreamClient, UpstreamError, api_base
from .relay import UpstreamRelay

CLIENT_AGENT = "hordebot:0.1:upstream"


def client_for(config: AppConfig) -> UpstreamClient:
    s = config.upstream
    return UpstreamClient(s.url, s.api_key, CLIENT_AGENT, timeout=s.http_timeout,
                          max_download_bytes=s.max_download_bytes)


__all__ = ["CLIENT_AGENT", "Refused", "UpstreamClient", "UpstreamError", "UpstreamRelay", "api_base", "client_for"]
