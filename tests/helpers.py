"""Small builders for core tests that drive the service directly (API tests use HTTP)."""

from __future__ import annotations

from typing import Any

from horde_core.ledger import book
from horde_core.service import HordeService
from horde_core.service.schemas import ImagePopSpec, ImageRequestSpec, SubmitSpec
from horde_core.users.repo import UserRow

TINY_WEBP_B64 = "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="  # a 1x1 lossless WebP


def image_request(prompt: str = "a red fox in snow", **kwargs: Any) -> ImageRequestSpec:
    params = kwargs.pop("params", {})
    return ImageRequestSpec.model_validate({"prompt": prompt, "params": params, **kwargs})


def pop_spec(name: str = "worker", **kwargs: Any) -> ImagePopSpec:
    kwargs.setdefault("models", ["stable_diffusion"])
    return ImagePopSpec.model_validate({"name": name, **kwargs})


def submit_spec(job_id: str, **kwargs: Any) -> SubmitSpec:
    kwargs.setdefault("generation", TINY_WEBP_B64)  # results are decoded and re-encoded, so send an image
    return SubmitSpec.model_validate({"id": job_id, **kwargs})


async def balance(service: HordeService, user: UserRow) -> int:
    return (await service.user_by_name(str(user.id))).kudos


async def assert_books_balance(service: HordeService) -> dict[str, int]:
    """The ledger invariant: every kudo minted is in a balance, an escrow, or burned."""
    async with service.db.read() as conn:
        totals = await book.totals(conn)
    assert totals["minted"] == totals["balances"] + totals["escrows"] + totals["burned"], totals
    return totals


def tiny_png(n: int, size: tuple[int, int] = (8, 8)) -> bytes:
    """A small PNG whose colour (and so content hash) depends on `n`."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (n % 256, n // 256 % 256, 7)).save(out, format="PNG")
    return out.getvalue()
