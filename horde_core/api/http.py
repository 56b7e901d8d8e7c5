"""Small request helpers shared by the route modules: the service, the caller, the body."""

from __future__ import annotations

import ipaddress
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

from horde_core.config import AppConfig
from horde_core.service import BadRequest, HordeService

from .bodies import BodyGate, parse_json

SERVICE = web.AppKey("service", HordeService)
CONFIG = web.AppKey("config", AppConfig)
BODIES = web.AppKey("bodies", BodyGate)
PROXIES = web.AppKey("proxies", tuple)

M = TypeVar("M", bound=BaseModel)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def service(request: web.Request) -> HordeService:
    return request.app[SERVICE]


def apikey(request: web.Request) -> str | None:
    return request.headers.get("apikey")


def _printable(value: str) -> str:
    return "".join(ch for ch in value if ch.isprintable())


def client_agent(request: web.Request) -> str:
    agent = request.headers.get("Client-Agent") or request.headers.get("client_agent") or ""
    return _printable(agent)[:200]


def trusted_networks(entries: list[str]) -> tuple[Network, ...]:
    """`api.trusted_proxies` as networks (a bare address is a /32 or /128)."""
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def ipaddr(request: web.Request) -> str:
    """The caller's address. `X-Forwarded-For` is believed only when the connection comes from a proxy
    in `api.trusted_proxies`; then the nearest address in the chain that is not a trusted proxy counts
    (a client can prepend anything it likes, but not what our proxies append)."""
    remote = request.remote or ""
    proxies: tuple[Network, ...] = request.app[PROXIES]
    peer = _address(remote)
    if not proxies or peer is None or not any(peer in net for net in proxies):
        return remote
    hops = [h for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",") if h.strip()]
    for hop in reversed(hops):
        addr = _address(hop)
        if addr is None:
            break  # garbage in the chain: do not trust anything before it
        if not any(addr in net for net in proxies):
            return str(addr)
    return remote


async def body(request: web.Request, model: type[M], *, large: bool = False) -> M:
    """Read, parse and validate a JSON body; size, encoding, syntax and shape errors all become 4xx.
    Handlers authenticate first: nobody's body is read before we know who sends it. `large` routes (those
    that carry images or long prompts) take up to `api.max_body_bytes`, the others `api.max_small_body_bytes`."""
    data: Any = parse_json(await read_body(request, large=large))
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.", rc="InvalidJSON")
    return model.model_validate(data)


async def read_body(request: web.Request, *, large: bool, limit: int | None = None) -> bytes:
    api = request.app[CONFIG].api
    small = api.max_small_body_bytes
    if limit is None:
        limit = api.max_body_bytes if large else small
    return await request.app[BODIES].read(request, limit, small=small, seconds=api.body_timeout)


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)
