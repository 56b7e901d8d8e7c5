"""What a style does to a generation request, as AI Horde does it: pure functions, no I/O.

Image: the user's prompt is split on `###` into positive and negative parts; the style's template gets
them at `{p}` and `{np}` (a negative part keeps its `###` when the template has none of its own). The
style's parameters replace the request's, except what a style does not decide: `n`, the seed, and width and
height when the style sets none. The style's models replace the request's and its `nsfw` flag is the
request's. Text: the template gets the prompt at `{p}`; parameters and models as for images.
The result names no style any more: applied once, here (an upstream horde must not apply its namesake again).
"""

from __future__ import annotations

import re

from horde_core.styles.repo import StyleRecord

from .schemas import ImageParams, ImageRequestSpec, TextParams, TextRequestSpec

_SLOT = re.compile(r"\{(p|np)\}")
# Left to the requester: how many, and which seed; a style that sets no size leaves the requester's.
_REQUESTER_IMAGE = ("seed", "seed_variation")
_SIZE = ("width", "height")


def fill(template: str, positive: str, negative: str) -> str:
    """One pass, so a prompt that itself contains `{np}` is not filled twice."""
    return _SLOT.sub(lambda m: positive if m.group(1) == "p" else negative, template)


def styled_image(spec: ImageRequestSpec, style: StyleRecord) -> ImageRequestSpec:
    positive, negative = spec.prompt, ""
    if "###" in positive:
        positive, negative = positive.split("###", 1)
    if "###" not in style.prompt and negative and "###" not in negative:
        negative = "###" + negative
    mine = spec.params
    params = {**style.params, "n": mine.n}
    for key in _REQUESTER_IMAGE:
        if key in mine.model_fields_set:
            params[key] = getattr(mine, key)
    for key in _SIZE:
        if key not in params and key in mine.model_fields_set:
            params[key] = getattr(mine, key)
    return spec.model_copy(update={"prompt": fill(style.prompt, positive, negative),
                                   "params": ImageParams.model_validate(params),
                                   "models": list(style.models), "nsfw": style.nsfw, "style": None})


def styled_text(spec: TextRequestSpec, style: StyleRecord) -> TextRequestSpec:
    params = {**style.params, "n": spec.params.n}
    return spec.model_copy(update={"prompt": fill(style.prompt, spec.prompt, ""),
                                   "params": TextParams.model_validate(params),
                                   "models": list(style.models), "nsfw": style.nsfw, "style": None})


def stored_params(kind: str, params: dict[str, object] | None) -> dict[str, object]:
    """The parameters a creator gave, checked as a request's would be; only those given are kept (the
    generation defaults stay the horde's), and never n or a seed."""
    model = ImageParams if kind == "image" else TextParams
    checked = model.model_validate(params or {})
    return checked.model_dump(mode="json", exclude_unset=True, exclude={"n", "seed", "seed_variation"})
