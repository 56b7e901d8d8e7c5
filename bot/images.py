"""Picking the image a member pointed at (an attachment of a message or a command), the same way everywhere."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from .errors import UserFacingError

MAX_IMAGE_BYTES = 8 * 1024 * 1024


def images_of(attachments: Sequence[discord.Attachment]) -> list[discord.Attachment]:
    return [a for a in attachments if (a.content_type or "").startswith("image/")]


def pick_image(attachments: Sequence[discord.Attachment]) -> discord.Attachment:
    """The first attached image small enough to use, or a refusal saying what would work."""
    if not attachments:
        raise UserFacingError("That message has no attached image.")
    images = images_of(attachments)
    if not images:
        raise UserFacingError("I can use images only (PNG, JPEG, WebP…); that is {kind}.",
                              kind=attachments[0].content_type or "an unknown kind of file")
    small = [a for a in images if a.size <= MAX_IMAGE_BYTES]
    if not small:
        raise UserFacingError("That image is larger than 8 MB. Try a smaller copy of it.")
    return small[0]
