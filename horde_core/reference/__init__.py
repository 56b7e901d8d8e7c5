"""The shipped model reference: which image and text models the broker knows about.

Workers advertise models by free-form name. The broker needs to tell a *known* model (priced, counted in
stats, with a known NSFW tuning and sane step limits) from a *custom* one it knows nothing about. The data
lives in two JSON files beside this module so it can be updated without touching code; nothing is read
until :meth:`ModelReference.load_default` is called (no import-time side effects).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

__all__ = ["FAMILIES", "KINDS", "ModelInfo", "ModelReference"]

KINDS: tuple[str, ...] = ("image", "text")

# Families drive pricing and compatibility (e.g. which LoRAs fit), so an unknown family is a data error.
FAMILIES: dict[str, frozenset[str]] = {
    "image": frozenset({"sd1.5", "sd2", "sdxl", "sd3", "cascade", "flux"}),
    "text": frozenset({"llama", "mistral", "qwen", "gemma", "phi", "other"}),
}

_DATA_FILES: tuple[str, ...] = ("image_models.json", "text_models.json")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One known model, validated on construction so bad reference data fails at load, not mid-request."""

    name: str  # exact name as workers advertise it (case-sensitive, e.g. "Deliberate")
    kind: str  # "image" or "text"
    family: str  # see FAMILIES
    nsfw: bool  # the model is known to be tuned for NSFW output (not merely able to produce it)
    min_steps: int  # image models: sensible step limits; text models: 0
    max_steps: int
    default_steps: int
    max_context_length: int  # text models: context size in tokens; image models: 0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"model name must be a non-empty string, got {self.name!r}")
        if self.kind not in FAMILIES:
            raise ValueError(f"{self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.family not in FAMILIES[self.kind]:
            raise ValueError(f"{self.name!r}: unknown {self.kind} family {self.family!r}")
        if not isinstance(self.nsfw, bool):
            raise ValueError(f"{self.name!r}: nsfw must be a bool")
        if self.kind == "image":
            if not 1 <= self.min_steps <= self.default_steps <= self.max_steps:
                raise ValueError(f"{self.name!r}: need 1 <= min_steps <= default_steps <= max_steps")
            if self.max_context_length != 0:
                raise ValueError(f"{self.name!r}: image models have no context length")
        else:
            if (self.min_steps, self.max_steps, self.default_steps) != (0, 0, 0):
                raise ValueError(f"{self.name!r}: text models have no step limits")
            if self.max_context_length <= 0:
                raise ValueError(f"{self.name!r}: text models need a positive max_context_length")


class ModelReference:
    """In-memory index of known models, loaded from the JSON files shipped beside this module.

    Lookups try the exact name first because workers advertise exact names; the case-insensitive fallback
    only exists to be forgiving with user input (e.g. a Discord command typed as "deliberate").
    """

    __slots__ = ("_by_kind", "_exact", "_folded")

    def __init__(self, models: Iterable[ModelInfo]) -> None:
        self._exact: dict[str, ModelInfo] = {}
        # casefolded name -> model, or None when two names differ only by case (then only exact matches work).
        self._folded: dict[str, ModelInfo | None] = {}
        self._by_kind: dict[str, list[ModelInfo]] = {kind: [] for kind in KINDS}
        for model in models:
            # get() takes no kind, so a name must identify exactly one model across both kinds.
            if model.name in self._exact:
                raise ValueError(f"duplicate model name {model.name!r}")
            self._exact[model.name] = model
            key = model.name.casefold()
            self._folded[key] = None if key in self._folded else model
            self._by_kind[model.kind].append(model)

    @classmethod
    def load_default(cls) -> ModelReference:
        """Read the shipped JSON files (via importlib.resources, so it works from a wheel or a zip)."""
        package = resources.files(__name__)
        models: list[ModelInfo] = []
        for filename in _DATA_FILES:
            rows = json.loads((package / filename).read_text(encoding="utf-8"))
            if not isinstance(rows, list):
                raise ValueError(f"{filename}: expected a JSON list of model objects")
            for row in rows:
                try:
                    models.append(ModelInfo(**row))
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"{filename}: invalid model entry {row!r}: {exc}") from exc
        return cls(models)

    def get(self, name: str) -> ModelInfo | None:
        """Return the model called ``name``: exact match first, then an unambiguous case-insensitive one."""
        model = self._exact.get(name)
        if model is not None:
            return model
        return self._folded.get(name.casefold())

    def is_known(self, name: str) -> bool:
        """True for reference models; anything else a worker advertises counts as a custom model."""
        return self.get(name) is not None

    def models(self, kind: str) -> list[ModelInfo]:
        """All known models of ``kind`` ("image" or "text"), in file order; a new list each call."""
        if kind not in self._by_kind:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        return list(self._by_kind[kind])

    def family(self, name: str) -> str | None:
        """The family of a known model (same lookup rules as :meth:`get`), or None for custom models."""
        model = self.get(name)
        return model.family if model is not None else None

    def __len__(self) -> int:
        return len(self._exact)

    def __repr__(self) -> str:
        counts = ", ".join(f"{kind}={len(items)}" for kind, items in self._by_kind.items())
        return f"<ModelReference {counts}>"
