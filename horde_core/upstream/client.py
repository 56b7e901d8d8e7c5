"""A small client of an AI Horde v2 compatible horde: the calls the relay needs, and errors sorted by
what the relay must do about them.

Every call carries the operator's key and our client agent; a call about one member's job also carries
`Proxied-For` (that member's stable, non-reversible value) and `Proxy-Authorization` (the operator's proxy
passkey) once the operator has a passkey. The public AI Horde then holds the member, not the operator's
address, to account: its IP timeouts and rate limits apply to the `Proxied-For` value (its
`horde/apis/request_utils.py`: the header counts only with a known passkey). An answer that is not what
the v2 API promises (not JSON, wrong shape, missing id) is an `UpstreamError` like a 5xx: the relay never
trusts the upstream to be well behaved."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

import aiohttp

# Refusals of the prompt itself: a strike against the member who sent it, here. (AI Horde answers a prompt
# its filter refuses with 400 CorruptPrompt and puts the sender in timeout for 3, 9, 15 ... minutes.)
ABUSE_RCS = frozenset({"CorruptPrompt", "Profanity"})
# The sender is in timeout: the operator's address (or, with a passkey, maybe the member's value). AI
# Horde says 403 TimeoutIP "... put into timeout for {ttl} more seconds ..." (no seconds past 4 days);
# a hordebot upstream says TimeoutIP / UserTimeout "... for N more minute(s)".
TIMEOUT_RCS = frozenset({"TimeoutIP", "TimeoutKey", "UserTimeout", "TooManyNewIPs"})
# Refusals that are the operator's to fix, whatever the job: the relay backs off and says why.
OPERATOR_RCS = {
    "OnlyServiceAccountProxy": "the operator's upstream account is not a service account, so it may not send "
                               "proxied_account: ask the upstream's moderators to make it one",
    "NonServiceForbidden": "the operator's upstream account is not a service account, so it may not have a proxy "
                           "passkey: ask the upstream's moderators to make it one",
    "KudosUpfront": "the operator's upstream account lacks the kudos for this request",
    "InvalidAPIKey": "the upstream does not know the operator's API key ([upstream] api_key)",
    "DeletedUser": "the operator's upstream account is scheduled for deletion",
    "UntrustedUnsafeIP": "the upstream refuses the operator's address as a VPN during a raid",
}

_SUBMIT = {"image": "/v2/generate/async", "text": "/v2/generate/text/async",
           "interrogation": "/v2/interrogate/async"}
_STATUS = {"image": "/v2/generate/status/{id}", "text": "/v2/generate/text/status/{id}",
           "interrogation": "/v2/interrogate/status/{id}"}
_REMAINING = re.compile(r"(\d+(?:\.\d+)?)\s+more\s+(second|minute|hour)", re.IGNORECASE)
_UNIT = {"second": 1.0, "minute": 60.0, "hour": 3600.0}


class UpstreamError(Exception):
    """The upstream could not (or would not) do it. `backoff`: it is unwell or limiting us, so the relay
    waits before sending more; `status` 0 means it could not be reached or answered nonsense;
    `unreachable`: no answer at all (refused, timed out), so whatever it holds is out of reach."""

    def __init__(self, message: str, *, status: int = 0, rc: str = "", backoff: bool = False,
                 unreachable: bool = False) -> None:
        super().__init__(message)
        self.message, self.status, self.rc, self.backoff = message, status, rc, backoff
        self.unreachable = unreachable


class Refused(UpstreamError):
    """The upstream refused the member's prompt as against its rules."""

    def __init__(self, message: str, *, status: int, rc: str) -> None:
        super().__init__(message, status=status, rc=rc)


class TimedOut(UpstreamError):
    """The sender is in timeout at the upstream; `seconds`: how much longer, when it said (None: unknown)."""

    def __init__(self, message: str, *, status: int, rc: str, seconds: float | None) -> None:
        super().__init__(message, status=status, rc=rc, backoff=True)
        self.seconds = seconds


def remaining_seconds(message: str, headers: Mapping[str, str] | None = None) -> float | None:
    """The timeout left, as the upstream states it: "for 540 more seconds" (AI Horde), "for 3 more
    minute(s)" (hordebot), or a Retry-After header; None when it does not say (or says nothing usable)."""
    match = _REMAINING.search(message or "")
    if match:
        seconds = float(match[1]) * _UNIT[match[2].lower()]
        return seconds if seconds > 0 else None
    retry = (headers or {}).get("Retry-After", "")
    if retry.strip().isdecimal() and int(retry) > 0:
        return float(retry)
    return None


def api_base(url: str) -> str:
    """`https://horde.example` and `https://horde.example/api/` both mean `https://horde.example/api`."""
    base = url.strip().rstrip("/")
    return base if base.endswith("/api") else f"{base}/api"


class UpstreamClient:
    def __init__(self, url: str, api_key: str, client_agent: str, *, timeout: float = 30.0,
                 max_download_bytes: int = 16 * 1024 * 1024) -> None:
        self.base = api_base(url)
        self.headers = {"apikey": api_key or "0000000000", "Client-Agent": client_agent}
        # The operator's proxy passkey (set by the relay, re-read from config or the database): never logged.
        self.passkey = ""
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

    @property
    def proxying(self) -> bool:
        return bool(self.passkey)

    def _headers(self, proxied_for: str) -> dict[str, str]:
        if not (proxied_for and self.passkey):
            return self.headers
        return {**self.headers, "Proxied-For": proxied_for, "Proxy-Authorization": self.passkey}

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None, *,
                    proxied_for: str = "") -> dict[str, Any]:
        try:
            async with self._http().request(method, self.base + path, json=body,
                                            headers=self._headers(proxied_for)) as resp:
                status, raw, headers = resp.status, await resp.read(), resp.headers
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise UpstreamError(f"unreachable: {exc.__class__.__name__}", backoff=True, unreachable=True) from exc
        try:
            data = await asyncio.to_thread(_json, raw) if len(raw) > 100_000 else _json(raw)
        except ValueError:
            raise UpstreamError(f"malformed answer (HTTP {status})", status=0 if status < 400 else status,
                                backoff=True) from None
        if status >= 400:
            raise _error(status, data, headers)
        if not isinstance(data, dict):
            raise UpstreamError("malformed answer (not an object)", backoff=True)
        return data

    async def submit(self, kind: str, body: dict[str, Any], proxied_for: str = "") -> str:
        """Send one request on behalf of `proxied_for`; the upstream's id for it."""
        data = await self._call("POST", _SUBMIT[kind], body, proxied_for=proxied_for)
        upstream_id = data.get("id")
        if not isinstance(upstream_id, str) or not upstream_id or len(upstream_id) > 64:
            raise UpstreamError("malformed answer (no request id)", backoff=True)
        return upstream_id

    async def check(self, upstream_id: str, proxied_for: str = "") -> dict[str, Any]:
        return await self._call("GET", f"/v2/generate/check/{upstream_id}", proxied_for=proxied_for)

    async def status(self, kind: str, upstream_id: str, proxied_for: str = "") -> dict[str, Any]:
        return await self._call("GET", _STATUS[kind].format(id=upstream_id), proxied_for=proxied_for)

    async def cancel(self, kind: str, upstream_id: str, proxied_for: str = "") -> dict[str, Any] | None:
        """Best effort: stop paying for what we no longer need. The upstream's last status of the request
        (what it charged is in it; empty when it no longer knows the request), or None when it could not
        be told (unreachable or unwell: worth trying again)."""
        try:
            return await self._call("DELETE", _STATUS[kind].format(id=upstream_id), proxied_for=proxied_for)
        except UpstreamError as exc:
            return None if exc.unreachable or exc.status == 0 or exc.status >= 500 or exc.status == 429 else {}

    async def generate_passkey(self) -> str:
        """Ask the upstream for a new proxy passkey of the operator's (service) account: AI Horde's
        `PUT /v2/users/{id}` `{"generate_proxy_passkey": true}` answers `{"proxy_passkey": ...}` and
        replaces any earlier one. Only a service account may (else 403 NonServiceForbidden)."""
        user = await self.find_user()
        user_id = user.get("id")
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise UpstreamError("malformed answer (find_user without an id)")
        data = await self._call("PUT", f"/v2/users/{user_id}", {"generate_proxy_passkey": True})
        passkey = data.get("proxy_passkey")
        if not isinstance(passkey, str) or not passkey.strip() or len(passkey) > 200:
            raise UpstreamError("the upstream did not return a proxy passkey (an older AI Horde?)")
        return passkey.strip()

    async def models(self, kind: str) -> frozenset[str]:
        try:
            async with self._http().get(f"{self.base}/v2/status/models", params={"type": kind},
                                        headers=self.headers) as resp:
                status, raw = resp.status, await resp.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise UpstreamError(f"models: unreachable: {exc.__class__.__name__}", backoff=True,
                                unreachable=True) from exc
        try:
            data = _json(raw)
        except ValueError as exc:
            raise UpstreamError("models: malformed answer", backoff=True) from exc
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


def _error(status: int, data: Any, headers: Mapping[str, str] | None = None) -> UpstreamError:
    body = data if isinstance(data, dict) else {}
    rc = str(body.get("rc") or "")
    message = str(body.get("message") or f"HTTP {status}")[:300]
    if rc in ABUSE_RCS:
        return Refused(message, status=status, rc=rc)
    if rc in TIMEOUT_RCS or (status == 403 and rc.lower().startswith("timeout")):
        return TimedOut(message, status=status, rc=rc, seconds=remaining_seconds(message, headers))
    if rc in OPERATOR_RCS:
        return UpstreamError(f"{OPERATOR_RCS[rc]} ({rc}: {message})", status=status, rc=rc, backoff=True)
    return UpstreamError(message, status=status, rc=rc, backoff=status == 429 or status >= 500)


__all__ = ["ABUSE_RCS", "OPERATOR_RCS", "TIMEOUT_RCS", "Refused", "TimedOut", "UpstreamClient", "UpstreamError",
           "api_base", "remaining_seconds"]
