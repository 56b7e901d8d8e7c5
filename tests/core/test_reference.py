"""Tests for the shipped model reference (horde_core.reference)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from horde_core.reference import FAMILIES, KINDS, ModelInfo, ModelReference


@pytest.fixture(scope="module")
def reference() -> ModelReference:
    return ModelReference.load_default()


def _image(**overrides: object) -> ModelInfo:
    """Build a valid image ModelInfo with any field replaced by ``overrides``."""
    fields: dict[str, object] = {
        "name": "Model",
        "kind": "image",
        "family": "sd1.5",
        "nsfw": False,
        "min_steps": 1,
        "max_steps": 150,
        "default_steps": 30,
        "max_context_length": 0,
    }
    fields.update(overrides)
    return ModelInfo(**fields)  # type: ignore[arg-type]


def test_default_reference_loads_both_kinds(reference: ModelReference) -> None:
    assert len(reference.models("image")) >= 40
    assert len(reference.models("text")) >= 15
    assert len(reference) == len(reference.models("image")) + len(reference.models("text"))


@pytest.mark.parametrize("name", ["Deliberate", "stable_diffusion"])
def test_well_known_sd15_models(reference: ModelReference, name: str) -> None:
    model = reference.get(name)
    assert model is not None
    assert model.name == name
    assert model.kind == "image"
    assert model.family == "sd1.5"
    assert reference.is_known(name)
    assert reference.family(name) == "sd1.5"


def test_family_examples(reference: ModelReference) -> None:
    assert reference.family("SDXL 1.0") == "sdxl"
    assert reference.family("Stable Cascade 1.0") == "cascade"
    assert reference.family("Flux.1-Schnell fp8 (Compact)") == "flux"
    assert reference.family("stable_diffusion_2.1") == "sd2"
    pony = reference.get("Pony Diffusion XL")
    assert pony is not None and pony.nsfw


def test_lookup_is_case_insensitive(reference: ModelReference) -> None:
    model = reference.get("deliberate")
    assert model is not None and model.name == "Deliberate"
    assert reference.is_known("DELIBERATE")
    assert reference.family("sdxl 1.0") == "sdxl"


def test_lookup_prefers_exact_match() -> None:
    upper = _image(name="Foo", family="sdxl")
    lower = _image(name="foo", family="sd2")
    ref = ModelReference([upper, lower])
    assert ref.get("Foo") is upper
    assert ref.get("foo") is lower
    # Two names differing only by case make a case-insensitive guess ambiguous.
    assert ref.get("FOO") is None


def test_unknown_names_return_none(reference: ModelReference) -> None:
    assert reference.get("definitely-not-a-model") is None
    assert not reference.is_known("definitely-not-a-model")
    assert reference.family("definitely-not-a-model") is None
    assert reference.get("") is None


def test_models_rejects_unknown_kind(reference: ModelReference) -> None:
    with pytest.raises(ValueError):
        reference.models("video")


def test_models_returns_a_copy(reference: ModelReference) -> None:
    reference.models("image").clear()
    assert reference.models("image")


def test_every_entry_is_valid(reference: ModelReference) -> None:
    for kind in KINDS:
        for model in reference.models(kind):
            assert model.kind == kind
            assert model.family in FAMILIES[kind], model
            assert isinstance(model.nsfw, bool)
            if kind == "image":
                assert 1 <= model.min_steps <= model.default_steps <= model.max_steps, model
                assert model.max_context_length == 0
            else:
                assert model.max_context_length > 0, model
                assert model.min_steps == model.max_steps == model.default_steps == 0


def test_names_are_unique_per_kind(reference: ModelReference) -> None:
    for kind in KINDS:
        counts = Counter(model.name for model in reference.models(kind))
        assert [name for name, n in counts.items() if n > 1] == []


def test_fast_models_have_low_step_limits(reference: ModelReference) -> None:
    schnell = reference.get("Flux.1-Schnell fp8 (Compact)")
    assert schnell is not None
    assert schnell.max_steps <= 12
    assert 4 <= schnell.default_steps <= 8


def test_text_model_has_positive_context(reference: ModelReference) -> None:
    model = reference.get("koboldcpp/LLaMA2-13B-Psyfighter2")
    assert model is not None
    assert model.kind == "text"
    assert model.family == "llama"
    assert model.max_context_length > 0


def test_model_info_is_frozen() -> None:
    model = _image(name="Bar")
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.name = "Baz"  # type: ignore[misc]


@pytest.mark.parametrize(
    "overrides",
    [
        {"kind": "audio"},
        {"family": "llama"},
        {"min_steps": 40},
        {"default_steps": 200},
        {"max_context_length": 4096},
        {"name": "   "},
    ],
)
def test_invalid_model_info_is_rejected(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _image(**overrides)


def test_duplicate_names_are_rejected() -> None:
    with pytest.raises(ValueError):
        ModelReference([_image(name="Same"), _image(name="Same", family="sdxl")])
