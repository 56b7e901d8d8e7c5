"""Catalogue entries, validated when built, so bad data fails at load (or at /settings), never mid-request.

The shipped entries live in `data/catalogue.json` beside this module; nothing is read until
`load_shipped()` is called (no import-time side effects).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from horde_core.reference import FAMILIES

KINDS: tuple[str, ...] = ("lora", "ti")
KIND_NAMES = {"lora": "LoRA", "ti": "textual inversion"}
MAX_NAME = 100
MAX_HORDE_NAME = 200
MAX_TRIGGERS = 10
MAX_TRIGGER = 100


class EntryError(ValueError):
    """An entry that cannot be accepted; the message says why."""


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str  # lora | ti
    name: str  # what members see and pick
    horde_name: str  # what goes to workers in `loras[].name` / `tis[].name` (a CivitAI id or exact name)
    triggers: tuple[str, ...]  # words that wake the LoRA up; part of the prompt when it is used
    family: str  # base model family (horde_core.reference.FAMILIES["image"]): what it is compatible with
    size_mb: float | None = None  # download size, None when unknown
    community: bool = False  # added by the community rather than shipped

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise EntryError(f"The kind is one of {', '.join(KINDS)}.")
        if not self.name.strip() or len(self.name) > MAX_NAME:
            raise EntryError(f"A name is 1-{MAX_NAME} characters.")
        if not self.horde_name.strip() or len(self.horde_name) > MAX_HORDE_NAME:
            raise EntryError(f"The horde name (a CivitAI id or exact name) is 1-{MAX_HORDE_NAME} characters.")
        if self.family not in FAMILIES["image"]:
            raise EntryError(f"The base family is one of {', '.join(sorted(FAMILIES['image']))}.")
        if len(self.triggers) > MAX_TRIGGERS or any(not t.strip() or len(t) > MAX_TRIGGER for t in self.triggers):
            raise EntryError(f"At most {MAX_TRIGGERS} trigger words of at most {MAX_TRIGGER} characters each.")
        if self.size_mb is not None and not 0 <= self.size_mb <= 100_000:
            raise EntryError("The size is between 0 and 100,000 MB.")

    @property
    def label(self) -> str:
        """One line for an autocomplete choice (Discord shows at most 100 characters)."""
        size = f", {self.size_mb:g} MB" if self.size_mb else ""
        triggers = f" — {', '.join(self.triggers)}" if self.triggers else ""
        return f"{self.name} ({self.family}{size}){triggers}"[:100]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "horde_name": self.horde_name, "triggers": list(self.triggers),
                "family": self.family, "size_mb": self.size_mb, "community": self.community}


def parse_triggers(text: str) -> tuple[str, ...]:
    """Comma-separated trigger words as an admin types them."""
    return tuple(t.strip() for t in text.split(",") if t.strip())


def load_shipped() -> list[Entry]:
    """The catalogue that ships with hordebot (read with importlib.resources, so it works from a wheel)."""
    raw = json.loads((resources.files(__package__) / "data" / "catalogue.json").read_text(encoding="utf-8"))
    entries = []
    for row in raw["entries"]:
        try:
            entries.append(Entry(kind=row["kind"], name=row["name"], horde_name=row["horde_name"],
                                 triggers=tuple(row.get("triggers", ())), family=row["family"],
                                 size_mb=row.get("size_mb")))
        except (KeyError, TypeError, EntryError) as exc:
            raise ValueError(f"catalogue.json: invalid entry {row!r}: {exc}") from exc
    seen = set()
    for e in entries:
        key = (e.kind, e.name.casefold())
        if key in seen:
            raise ValueError(f"catalogue.json: duplicate {e.kind} {e.name!r}")
        seen.add(key)
    return entries
