"""A small client of an AI Horde v2 compatible horde: the calls the relay needs, and errors sorted by
what the relay must do about them.

Every call carries the operator's key and our client agent. An answer that is not what the v2 API
promises (not JSON, wrong shape, missing id) is an `UpstreamError` like a 5xx: the relay never trusts
the upstream to be well behaved."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
from typing import Any

import aiohttp

# Refusals that say the prompt broke the upstream's rules: a strike against whoever asked, here.
ABUSE_RCS = frozenset({"CorruptPrompt", "Profanity", "NSFWDisabled"})
# Refusals that are the operator's to fix, whatever the job: the relay backs off and says why.
OPERATOR_RCS = {
    "OnlyServiceAccountProxy": "the operator's upstream account is not a service account, so it may not send "
                               "proxied_account: ask the upstream's moderators to make it one",
    "KudosUpfront": "the operator's upstream account lacks the kudos for this request",
    "InvalidAPIKey": "the upstream does not know the operator's API key ([upstream] api_key)",
}

_SUBMIT = {"image": "/v2/generate/async", "text": "/v2/generate/text/async",
           "interrogation": "/v2/interrogate/async"}
_STATUS = {"image": "/v2/generate/status/{id}", "text": "/v2/generate/text/status/{id}",
           "interrogation": "/v2/interrogate/status/{id}"}


class UpstreamError(Exception):
    """The upstream could not (or would not) do it. `backoff`: it is unwell or limiting us, so the relay
    waits before sending more; `status` 0 means it could not be reached or answered nonsense."""

    def __init__(self, message: str, *, status: int = 0, rc: str = "", backoff: bool = False) -> None:
        super().__init__(message)
        self.message, self.status, self.rc, self.backoff = message, status, rc, backoff


class Refused(UpstreamError):
    """The upstream refused the request as against its rules (or timed out our key or address)."""

    def __init__(self, message: str, *, status: int, rc: str, operator_timeout: bool) -> None:
        super().__init__(message, status=status, rc=rc, backoff=operator_timeout)
        self.operator_timeout = operator_timeout


def api_base(url: str) -> str:
    """`https://horde.example` and `https://horde.example/api/` both mean `https://horde.example/api`."""
    base = url.strip().rstrip("/")
    return base if base.endswith("/api") else f"{base}/api"


class UpstreamClient:
    def __init__(self, url: str, api_key: str, client_agent: str, *, timeout: float = 30.0,
                 max_download_bytes: int = 16 * 1024 * 1024) -> None:
        self.base = api_base(url)
        self.headers = {"apikey": api_key or "0000000000", "Client-Agent": client_agent}
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.max_download_bytes = max_download_bytes
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            async with self._http().request(method, self.base + path, json=body, headers=self.headers) as resp:
                status, raw = resp.status, await resp.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise UpstreamError(f"unreachable: {exc.__class__.__name__}", backoff=True) from exc
        try:
            data = await asyncio.to_thread(_json, raw) if len(raw) > 100_000 else _json(raw)
        except ValueError:
            raise UpstreamError(f"malformed answer (HTTP {status})", status=0 if status < 400 else status,
                                backoff=True) from None
        if status >= 400:
            raise _error(status, data)
        if not isinstance(data, dict):
            raise UpstreamError("malformed answer (not an object)", backoff=True)
        return data

    async def submit(self, kind: str, body: dict[str, Any]) -> str:
        """Send one request; the upstream's id for it."""
        data = await self._call("POST", _SUBMIT[kind], body)
        upstream_id = data.get("id")
        if not isinstance(upstream_id, str) or not upstream_id or len(upstream_id) > 64:
            raise UpstreamError("malformed answer (no request id)", backoff=True)
        return upstream_id

    async def check(self, upstream_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/v2/generate/check/{upstream_id}")

    async def status(self, kind: str, upstream_id: str) -> dict[str, Any]:
        return await self._call("GET", _STATUS[kind].format(id=upstream_id))

    async def cancel(self, kind: str, upstream_id: str) -> None:
        """Best effort: stop paying for what we no longer need."""
        with contextlib.suppress(UpstreamError):
            await self._call("DELETE", _STATUS[kind].format(id=upstream_id))

    async def models(self, kind: str) -> frozenset[str]:
        try:
            async with self._http().get(f"{self.base}/v2/status/models", params={"type": kind},
                                        headers=self.headers) as resp:
                status, raw = resp.status, await resp.read()
            data = _json(raw)
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            raise UpstreamError(f"models: {exc.__class__.__name__}", backoff=True) from exc
        if status >= 400 or not isinstance(data, list):
            raise UpstreamError(f"models: HTTP {status}", status=status, backoff=True)
        return frozenset(m["name"] for m in data if isinstance(m, dict) and isinstance(m.get("name"), str)
                         and int(m.get("count") or 0) > 0)

    async def find_user(self) -> dict[str, Any]:
        return await self._call("GET", "/v2/find_user")

    async def heartbeat(self) -> bool:
        try:
            await self._call("GET", "/v2/status/heartbeat")
        except UpstreamError:
            return False
        return True

    async def image(self, value: str) -> bytes:
        """A generation's image: downloaded from its (expiring) URL, or decoded when sent inline."""
        if not value.startswith(("http://", "https://")):
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise UpstreamError("malformed image (not base64)") from exc
        try:
            async with self._http().get(value) as resp:
                if resp.status >= 400:
                    raise UpstreamError(f"image download: HTTP {resp.status} (expired?)", status=resp.status)
                data = await resp.content.read(self.max_download_bytes + 1)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise UpstreamError(f"image download: {exc.__class__.__name__}") from exc
        if len(data) > self.max_download_bytes:
            raise UpstreamError("image download: too large")
        return data


def _json(raw: bytes) -> Any:
    return json.loads(raw) if raw else {}


def _error(status: int, data: Any) -> UpstreamError:
    body = data if isinstance(data, dict) else {}
    rc = str(body.get("rc") or "")
    message = str(body.get("message") or f"HTTP {status}")[:300]
    if rc in ABUSE_RCS:
        return Refused(message, status=status, rc=rc, operator_timeout=False)
    if status == 403 and "timeout" in rc.lower():
        return Refused(message, status=status, rc=rc, operator_timeout=True)
    if rc in OPERATOR_RCS:
        return UpstreamError(f"{OPERATOR_RCS[rc]} ({rc}: {message})", status=status, rc=rc, backoff=True)
    return UpstreamError(message, status=status, rc=rc, backoff=status == 429 or status >= 500)


__all__ = ["ABUSE_RCS", "OPERATOR_RCS", "Refused", "UpstreamClient", "UpstreamError", "api_base"]
