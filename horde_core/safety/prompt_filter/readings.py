"""Readings of a prompt that uses alternation: ``[a|b]``, ``{a|b}`` and prompt editing ``[from:to:when]``.

A diffusion UI draws a prompt with ``[child|cat]`` by switching words every step, and dynamic-prompt
tools pick one of ``{a|b}`` per image, so the model sees every option.  Each option can also hide part of a
word (``na[ke|ke]d``).  Rather than teach each detector the syntax, the filter checks each reading: the
prompt as written (``n|a|k|e|d`` between brackets is a separator trick, not a choice), then reading ``k``
takes option ``k`` of every group, as the UIs do step by step.  Prompts without the syntax have one
reading, so this costs nothing for them.
"""

from __future__ import annotations

import re

__all__ = ["MAX_READINGS", "readings"]

MAX_READINGS = 4  # the written prompt plus up to three alternations
_GROUP = re.compile(r"\[([^\[\]]*)\]|\{([^{}]*)\}")
_WHEN = re.compile(r"^\s*\d*\.?\d+\s*$")


def _options(inner: str, square: bool) -> list[str] | None:
    """The options of one bracket group, or None when it is plain emphasis (``[word]``, ``{word}``)."""
    if "|" in inner:
        return inner.split("|")
    if square and inner.count(":") == 2:  # [from:to:when]: the model sees both words
        before, after, when = inner.split(":")
        return [before, after] if _WHEN.match(when) else None
    return None


def readings(text: str, limit: int = MAX_READINGS) -> list[str]:
    """``text`` itself first, then one text per alternation step (at most ``limit`` in all)."""
    if "|" not in text and ":" not in text:
        return [text]
    groups: list[tuple[int, int, list[str]]] = []
    for match in _GROUP.finditer(text):
        square = match.group(1) is not None
        options = _options(match.group(1) if square else match.group(2), square)
        if options:
            groups.append((match.start(), match.end(), options))
    if not groups:
        return [text]
    steps = max(len(options) for _, _, options in groups)
    out = [text]
    for step in range(min(steps, limit - 1)):
        parts: list[str] = []
        end = 0
        for start, stop, options in groups:
            parts.append(text[end:start])
            parts.append(options[step % len(options)])
            end = stop
        parts.append(text[end:])
        reading = "".join(parts)
        if reading not in out:
            out.append(reading)
    return out
