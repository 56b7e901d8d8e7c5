"""Decoding images we did not make, safely: base64 or bytes in, checked WebP out.

Pillow's decompression-bomb guard is global; we check the declared size ourselves before
any pixel is decoded, so one caller's huge image cannot exhaust memory.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 3072 * 3072
T = TypeVar("T")


class NotAnImage(ValueError):
    pass


def b64decode(data: str, max_bytes: int) -> bytes:
    """Decode base64 (with or without a data: URL prefix), refusing oversized input early."""
    if data.startswith("data:") and "," in data:
        data = data.split(",", 1)[1]
    if len(data) * 3 // 4 > max_bytes:
        raise NotAnImage(f"image is larger than {max_bytes} bytes")
    try:
        return base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise NotAnImage("image is not valid base64") from exc


def to_webp(raw: bytes, *, max_pixels: int = MAX_PIXELS, lossless: bool = False) -> tuple[bytes, int, int]:
    """Check that `raw` is an image of acceptable size and return it as WebP with its size (lossless keeps
    every pixel, for images imported into a dataset)."""
    try:
        with Image.open(io.BytesIO(raw)) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise NotAnImage(f"image has {width}x{height} pixels; the limit is {max_pixels}")
            img.load()
            out = io.BytesIO()
            converted = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB")
            if lossless:
                converted.save(out, format="WEBP", lossless=True)
            else:
                converted.save(out, format="WEBP", quality=95)
    except NotAnImage:
        raise
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError) as exc:
        raise NotAnImage("the data is not an image Pillow can read") from exc
    return out.getvalue(), width, height


def is_lossless_webp(raw: bytes) -> bool:
    """Whether a WebP file stores lossless pixels (a VP8L bitstream), so re-encoding can keep them exact."""
    return raw[:4] == b"RIFF" and raw[8:12] == b"WEBP" and b"VP8L" in raw[12:64]


def checked_result(raw: bytes, max_pixels: int) -> bytes:
    """A worker's result as a clean WebP: its declared size checked before any pixel is decoded, then decoded
    and encoded again (lossless stays lossless), so nothing but an image is ever served from our origin."""
    webp, _, _ = to_webp(raw, max_pixels=max_pixels, lossless=is_lossless_webp(raw))
    return webp


def size_of(raw: bytes) -> tuple[int, int]:
    """An image's declared size, read from its header only (no pixel is decoded)."""
    try:
        with Image.open(io.BytesIO(raw)) as img:
            return img.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError) as exc:
        raise NotAnImage("the data is not an image Pillow can read") from exc


class ImagePool:
    """Decoding and encoding off the event loop, in a few threads (Pillow releases the GIL while it works),
    with at most `threads * 4` images waiting, so a flood of conversions queues here, bounded, while
    every other request keeps the loop. One per process, handed to the service."""

    def __init__(self, threads: int = 2) -> None:
        self.threads = max(1, threads)
        self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="images")
        self._slots = asyncio.Semaphore(self.threads * 4)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def to_webp(self, raw: bytes, *, max_pixels: int = MAX_PIXELS,
                      lossless: bool = False) -> tuple[bytes, int, int]:
        return await self.run(_to_webp_call, raw, max_pixels, lossless)

    async def checked_result(self, raw: bytes, max_pixels: int) -> bytes:
        return await self.run(checked_result, raw, max_pixels)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _to_webp_call(raw: bytes, max_pixels: int, lossless: bool) -> tuple[bytes, int, int]:
    return to_webp(raw, max_pixels=max_pixels, lossless=lossless)
