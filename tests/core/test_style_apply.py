"""What a style does to a request (service/style_apply.py), case by case, as AI Horde does it."""

from __future__ import annotations

from horde_core.service.schemas import TextRequestSpec
from horde_core.service.style_apply import fill, stored_params, styled_image, styled_text
from horde_core.styles.repo import StyleRecord
from tests.helpers import image_request


def style(prompt: str, params: dict, *, kind: str = "image", nsfw: bool = False) -> StyleRecord:  # type: ignore[type-arg]
    return StyleRecord("id", kind, "s", "", prompt, params, True, nsfw, 0, 1, "a#1", 0.0, ["m1", "m2"])


def test_fill_is_one_pass() -> None:
    assert fill("<{p}|{np}|{x}>", "a {np} b", "c") == "<a {np} b|c|{x}>"


def test_negative_parts() -> None:
    own_hashes = style("{p}, sharp###{np}, blurry", {})
    assert styled_image(image_request("cat###dog"), own_hashes).prompt == "cat, sharp###dog, blurry"
    assert styled_image(image_request("cat"), own_hashes).prompt == "cat, sharp###, blurry"
    none = style("{p}, sharp {np}", {})
    assert styled_image(image_request("cat###dog"), none).prompt == "cat, sharp ###dog"
    assert styled_image(image_request("cat###a###b"), none).prompt == "cat, sharp a###b"


def test_params_are_the_styles_but_n_seed_and_an_unset_size_are_the_requesters() -> None:
    request = image_request("x", params={"n": 3, "steps": 80, "seed": "42", "width": 1024, "cfg_scale": 12},
                            models=["other"], nsfw=True, style="s")
    out = styled_image(request, style("{p}", {"steps": 10, "height": 768}, nsfw=False))
    p = out.params
    assert (p.n, p.steps, p.seed, p.width, p.height, p.cfg_scale) == (3, 10, "42", 1024, 768, 7.5)
    assert out.models == ["m1", "m2"] and out.nsfw is False and out.style is None
    unset = styled_image(image_request("x"), style("{p}", {}))
    assert (unset.params.width, unset.params.height, unset.params.steps) == (512, 512, 30)  # the horde's defaults


def test_text() -> None:
    spec = TextRequestSpec.model_validate({"prompt": "hi", "params": {"n": 2, "max_length": 500, "top_k": 3}})
    out = styled_text(spec, style("System. {p} {np}", {"max_length": 100, "min_p": 0.1}, kind="text"))
    assert out.prompt == "System. hi " and out.params.n == 2 and out.params.max_length == 100
    assert out.params.top_k is None and out.params.model_dump()["min_p"] == 0.1


def test_stored_params_keep_only_what_the_creator_gave() -> None:
    assert stored_params("image", {"steps": 20, "n": 4, "seed": "1", "nonsense": 1}) == {"steps": 20}
    assert stored_params("text", None) == {}
