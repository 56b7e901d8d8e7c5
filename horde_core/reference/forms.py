"""Interrogation ("alchemy") forms: which exist and which produce images.

Text forms answer with a small JSON value; image forms (upscalers, face fixers, background
removal) answer with an image the worker uploads, which clients then download by URL.
"""

from __future__ import annotations

TEXT_FORMS = frozenset({"caption", "interrogation", "nsfw"})
UPSCALERS = frozenset({"RealESRGAN_x4plus", "RealESRGAN_x2plus", "RealESRGAN_x4plus_anime_6B", "NMKD_Siax",
                       "4x_AnimeSharp"})
FACE_FIXERS = frozenset({"GFPGAN", "CodeFormers"})
IMAGE_FORMS = UPSCALERS | FACE_FIXERS | frozenset({"strip_background"})
KNOWN_FORMS = TEXT_FORMS | IMAGE_FORMS


def is_image_form(form: str) -> bool:
    return form in IMAGE_FORMS
