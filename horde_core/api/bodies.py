"""Reading request bodies without letting a caller exhaust memory, and parsing JSON a fuzzer wrote.

A body is read only after the caller was authenticated and the route said how large a body it takes;
large bodies (source images, base64 results, uploads) wait for one of a few slots, so forty 12 MB posts
cost at most `large_bodies_at_once` buffers, not forty. JSON that no client sends (not UTF-8, nested
deeper than any schema, numbers no field can hold, NUL characters that PostgreSQL cannot store) is
refused with a 4xx before any use case sees it.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

from aiohttp import web

from horde_core.service import BadRequest, HordeError

MAX_DEPTH = 24  # the deepest schema (alchemy payloads, loras) is far shallower
MAX_INT_DIGITS = 40  # seeds up to 2**128; no field takes more


class ServerBusy(HordeError):
    status = 503
    rc = "ServerBusy"


class BodyGate:
    """How many large bodies are read at once (a named part of the API app, one per process)."""

    def __init__(self, slots: int, wait_seconds: float) -> None:
        self._slots = asyncio.Semaphore(max(1, slots))
        self._wait = wait_seconds

    async def read(self, request: web.Request, limit: int, *, small: int, seconds: float) -> bytes:
        """The body, at most `limit` bytes; bodies over `small` bytes (or of unknown length) take a slot."""
        length = request.content_length
        if length is not None and length > limit:
            raise BadRequest(f"Body larger than {limit} bytes.", rc="PayloadTooLarge", status=413)
        if length is not None and length <= small:
            return await _read(request, limit, seconds)
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=self._wait)
        except TimeoutError:
            raise ServerBusy("Too many large uploads at once; retry in a few seconds.") from None
        try:
            return await _read(request, limit, seconds)
        finally:
            self._slots.release()


async def _read(request: web.Request, limit: int, seconds: float) -> bytes:
    """aiohttp's own read (it caches the body for any middleware that read it first, and stops at the app's
    `client_max_size`), within the time allowed; then this route's limit."""
    try:
        async with asyncio.timeout(seconds):
            data = await request.read()
    except TimeoutError:
        raise BadRequest(f"The body did not arrive within {seconds:g} seconds.", rc="RequestTimeout",
                         status=408) from None
    except web.HTTPRequestEntityTooLarge:
        data = b""
        length = limit + 1
    else:
        length = len(data)
    if length > limit:
        raise BadRequest(f"Body larger than {limit} bytes.", rc="PayloadTooLarge", status=413)
    return data


class _Refused(ValueError):
    pass


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"a number has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    if len(text) > 64:
        raise _Refused("a number is written with too many digits")
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("a number is too large")
    return value


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number JSON allows")


def parse_json(raw: bytes) -> Any:
    """JSON a client could mean; BadRequest with an rc for everything else."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The body is not valid UTF-8.", rc="InvalidEncoding") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except _Refused as exc:
        raise BadRequest(f"The body is not acceptable JSON: {exc}.", rc="InvalidJSON") from None
    except RecursionError:
        raise BadRequest(f"The body is nested deeper than {MAX_DEPTH} levels.", rc="InvalidJSON") from None
    except ValueError:
        raise BadRequest("The body is not valid JSON.", rc="InvalidJSON") from None
    check_tree(data)
    return data


def check_tree(data: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH, and NUL characters or lone surrogates (`"\\ud800"`: valid JSON, not
    text any database can store) in any key or string. Walked without recursion, so the walk cannot overflow."""
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        node, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(f"The body is nested deeper than {MAX_DEPTH} levels.", rc="InvalidJSON")
        if isinstance(node, str):
            if not _storable(node):
                raise _nul(where)
        elif isinstance(node, dict):
            for key, value in node.items():
                if not _storable(key):
                    raise _nul(where or "body")
                stack.append((value, depth + 1, f"{where}.{key}" if where else key))
        elif isinstance(node, list):
            stack.extend((value, depth + 1, f"{where}[{i}]") for i, value in enumerate(node))


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _nul(field: str) -> BadRequest:
    return BadRequest(f"{field or 'body'}: NUL characters and lone surrogates are not allowed.",
                      rc="InvalidCharacters", errors={field or "body": "NUL characters are not allowed"})
