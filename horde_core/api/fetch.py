"""Downloading a client's source image from a URL: once, bounded in size and time, never into
our own network unless allowed (no server-side request forgery)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import aiohttp


async def _public_host(host: str) -> bool:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_reserved or addr.is_multicast:
            return False
    return True


async def fetch_image(url: str, max_bytes: int, seconds: float, allow_private: bool) -> bytes:
    """The bytes at `url`; ValueError with a reason a client can act on when that fails."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("only http(s) URLs can be downloaded")
    if not allow_private and not await _public_host(parts.hostname):
        raise ValueError("the URL's host is not a public address")
    try:
        async with (aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as http,
                    http.get(url, allow_redirects=False) as resp):
            if resp.status != 200:
                raise ValueError(f"downloading it answered HTTP {resp.status}")
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise ValueError(f"it is larger than {max_bytes} bytes")
            data = bytearray()
            async for chunk in resp.content.iter_chunked(65536):
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise ValueError(f"it is larger than {max_bytes} bytes")
            return bytes(data)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ValueError(f"it could not be downloaded ({type(exc).__name__})") from exc
