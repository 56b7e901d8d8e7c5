"""Posting a webhook over HTTP, never into our own network unless allowed: the addresses are checked after DNS
resolution, on the very addresses the connection uses (a resolver that refuses private ones), so a name that
resolved to a public address when the request was made cannot be re-pointed at a private one later."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver

from horde_core.service.webhook_rules import public_address

if TYPE_CHECKING:
    from aiohttp import web

    from horde_core.service import HordeService


class _PublicOnly(AbstractResolver):
    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        found = await self._inner.resolve(host, port, family)
        if not found or not all(public_address(str(r["host"])) for r in found):
            raise _Refused(f"{host} resolves to a non-public address")
        return found

    async def close(self) -> None:
        await self._inner.close()


class _Refused(OSError):
    pass


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


async def post_webhook(url: str, body: bytes, headers: dict[str, str], seconds: float, allow_private: bool) -> int:
    """POST `body`; the HTTP status, 0 when the receiver could not be reached in time. ValueError when the
    address is not one the horde posts to."""
    host = urlsplit(url).hostname or ""
    literal = _literal_ip(host)
    if not allow_private and literal is not None and not public_address(literal):
        raise ValueError(f"{host} is not a public address")
    connector = aiohttp.TCPConnector(resolver=None if allow_private else _PublicOnly(), force_close=True)
    try:
        async with (aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=seconds)) as http,
                    http.post(url, data=body, headers=headers, allow_redirects=False) as resp):
            await resp.read()
            return resp.status
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, _Refused):
            raise ValueError(str(exc.os_error)) from exc
        return 0
    except (TimeoutError, aiohttp.ClientError):
        return 0


def webhook_sender(service: HordeService) -> Callable[[web.Application], AsyncIterator[None]]:
    """The app's webhook sender: runs while the API serves (every API node sends; leases keep them apart)."""

    async def run(_: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(service.run_webhooks(stop))
        yield
        stop.set()
        service.wake_webhooks()
        await task

    return run
