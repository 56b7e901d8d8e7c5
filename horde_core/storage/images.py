"""Decoding images we did not make, safely: base64 or bytes in, checked WebP out.

Pillow's decompression-bomb guard is global; we check the declared size ourselves before
any pixel is decoded, so one caller's huge image cannot exhaust memory.
"""

from __future__ import annotations

import base64
import binascii
import io

from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 3072 * 3072


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
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise NotAnImage("the data is not an image Pillow can read") from exc
    return out.getvalue(), width, height
