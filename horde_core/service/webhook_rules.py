"""What the horde posts webhooks to, and how it signs them: an http(s) URL on a public address (unless
`webhooks.allow_private`, for tests), and `X-Horde-Signature: sha256=<hex HMAC-SHA256 of the raw body>`."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
from urllib.parse import urlsplit

from horde_core.config import WebhookSettings

from .errors import BadRequest

SIGNATURE_HEADER = "X-Horde-Signature"
MAX_URL = 1024


def public_address(addr: str) -> bool:
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast
                or ip.is_unspecified)


async def checked_webhook(url: str | None, settings: WebhookSettings) -> str:
    """The URL to store on a request ("" for none); BadRequest InvalidWebhook when the horde will not post there."""
    if not url:
        return ""
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"webhook must be an http(s) URL of at most {MAX_URL} characters.", rc="InvalidWebhook",
                         errors={"webhook": "not an http(s) URL"})
    if settings.allow_private:
        return url
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, None, type=socket.SOCK_STREAM)
    except OSError:
        infos = []
    if not infos or not all(public_address(str(info[4][0])) for info in infos):
        raise BadRequest("webhook: the URL's host is not a public address.", rc="InvalidWebhook",
                         errors={"webhook": "not a public address"})
    return url


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
