"""One raw HTTP call to the API under test: (status, decoded JSON), with an optional apikey and JSON body."""

from __future__ import annotations

from typing import Any

import aiohttp


async def call(server, method: str, path: str, key: str | None = None,  # type: ignore[no-untyped-def]
               body: Any = None, **params: str) -> tuple[int, Any]:
    headers = {"apikey": key} if key else {}
    url = server.make_url(f"/api/v2{path}")
    async with aiohttp.ClientSession() as http, http.request(method, url, headers=headers, json=body,
                                                             params=params or None) as r:
        return r.status, await r.json()
