"""Shared pieces of the horde-sdk contract tests: real images, and a strict call that must parse."""

from __future__ import annotations

import io
from typing import Any

from horde_sdk.generic_api.apimodels import HordeRequest, RequestErrorResponse
from PIL import Image


def tiny_webp(color: tuple[int, int, int] = (200, 30, 60), size: tuple[int, int] = (64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="WEBP", lossless=True)
    return out.getvalue()


async def call(client: Any, request: HordeRequest, expected: type[Any]) -> Any:
    """Submit through the SDK and insist that strict parsing produced the expected model."""
    response = await client.submit_request(request, expected)
    assert not isinstance(response, RequestErrorResponse), (
        f"{type(request).__name__}: {response.message} rc={response.rc} {response.object_data}")
    assert isinstance(response, expected), type(response)
    return response
