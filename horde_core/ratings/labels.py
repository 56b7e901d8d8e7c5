"""The dataset's words: valid dataset names, the sidecar files an import reads, and the fields an export
writes. Pure functions; the CLI reads and writes the files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class LabelError(ValueError):
    """A sidecar (or a dataset name) that cannot be used; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Labels:
    caption: str = ""
    rating: int | None = None  # 1-10
    artifacts: int | None = None  # 0-5


def check_dataset_name(name: str) -> str:
    if not _NAME.match(name):
        raise LabelError(f"dataset name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a "
                         "letter or digit")
    return name


def _score(data: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) \
            or not low <= value <= high:
        raise LabelError(f"{key} must be a whole number from {low} to {high}, not {value!r}")
    return int(value)


def parse_labels(caption_text: str | None, json_text: str | None) -> Labels:
    """Labels from an image's sidecars: `NAME.txt` (the caption) and `NAME.json` (`{"caption"?, "rating"?,
    "artifacts"?}`, whose caption wins)."""
    caption = (caption_text or "").strip()
    if json_text is None:
        return Labels(caption=caption)
    try:
        data = json.loads(json_text)
    except ValueError as exc:
        raise LabelError(f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise LabelError("must be a JSON object such as {\"caption\": \"...\", \"rating\": 7, \"artifacts\": 1}")
    if "caption" in data:
        if not isinstance(data["caption"], str):
            raise LabelError("caption must be a string")
        caption = data["caption"].strip()
    return Labels(caption=caption, rating=_score(data, "rating", 1, 10), artifacts=_score(data, "artifacts", 0, 5))


def split_prompt(prompt: str) -> tuple[str, str]:
    """AI Horde prompts carry the negative prompt after `###`."""
    positive, _, negative = prompt.partition("###")
    return positive.strip(), negative.replace("###", " ").strip()


def mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


__all__ = ["IMAGE_SUFFIXES", "LabelError", "Labels", "check_dataset_name", "mean", "parse_labels", "split_prompt"]
