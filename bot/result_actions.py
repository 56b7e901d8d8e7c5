"""The custom ids of the generate feature's restart-proof result buttons, for every feature that offers them.

A result's buttons carry their state in the custom_id (`discord.ui.DynamicItem`), so the generate feature
answers them whichever message they sit on: its own results, the gallery (another cog, which may not import
it), a private picker. Builders and the patterns that parse them live together here, so both sides agree.
"""

from __future__ import annotations

_ID = r"[0-9a-f-]{36}"

# Image alchemy on a result: what each button asks the alchemists for, best first (what real workers offer:
# horde-alchemist's post-processors). The first one an alchemist serves right now is used.
ENHANCE_FORMS: dict[str, tuple[str, ...]] = {
    "x2": ("RealESRGAN_x2plus",),
    "x4": ("RealESRGAN_x4plus", "RealESRGAN_x4plus_anime_6B", "NMKD_Siax", "4x_AnimeSharp"),
    "face": ("GFPGAN", "CodeFormers"),
    "bg": ("strip_background",),
}
ENHANCE_LABELS = {"x2": "Upscale x2", "x4": "Upscale x4", "face": "Fix faces", "bg": "Remove background"}
ENHANCE_EMOJI = {"x2": "🔍", "x4": "🔎", "face": "🙂", "bg": "✂️"}
_OP = "(?P<op>" + "|".join(ENHANCE_FORMS) + ")"

RERUN = rf"gen:retry:(?P<rid>{_ID})"
EXACT = rf"gen:exact:(?P<job>{_ID})"
VARY = rf"gen:vary:(?P<job>{_ID}):(?P<index>\d)"
REMIX = rf"gen:remix:(?P<job>{_ID})"
STAR = rf"gen:star:(?P<job>{_ID})"
INFO = rf"gen:info:(?P<rid>{_ID})"
ENHANCE = rf"gen:pp:(?P<job>{_ID}):{_OP}"
ENHANCE_PICK = rf"gen:enh:(?P<rid>{_ID})"
MESSAGE_ENHANCE = rf"gen:ppm:(?P<message>\d{{15,20}}):(?P<index>\d):{_OP}"


def rerun_id(request_id: str) -> str:
    """The same request again, seed included (the Retry after a timeout)."""
    return f"gen:retry:{request_id}"


def exact_id(job_id: str) -> str:
    """One image again exactly: its request's settings with the image's own seed and model, one image."""
    return f"gen:exact:{job_id}"


def vary_id(job_id: str, index: int = 0) -> str:
    """img2img from the image; `index` is its attachment on the message (a fallback once the core pruned it)."""
    return f"gen:vary:{job_id}:{index}"


def remix_id(job_id: str) -> str:
    """img2img from the image with a new prompt and strength, asked for in a modal."""
    return f"gen:remix:{job_id}"


def star_id(job_id: str) -> str:
    """Star the image (kept past the horde's retention, in /gallery favourites), or unstar it."""
    return f"gen:star:{job_id}"


def info_id(request_id: str) -> str:
    """Every parameter of a request, privately."""
    return f"gen:info:{request_id}"


def enhance_id(job_id: str, op: str) -> str:
    """Upscale, fix faces or remove the background of a stored result (`op` in ENHANCE_FORMS)."""
    return f"gen:pp:{job_id}:{op}"


def enhance_pick_id(request_id: str) -> str:
    """On a result of several images: a private choice of image and enhancement."""
    return f"gen:enh:{request_id}"


def message_enhance_id(message_id: int, index: int, op: str) -> str:
    """Enhance the `index`-th image attached to a message in the channel (any image, not only results)."""
    return f"gen:ppm:{message_id}:{index}:{op}"
