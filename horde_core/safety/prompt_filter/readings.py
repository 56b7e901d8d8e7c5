"""Readings of a prompt that uses alternation: ``[a|b]``, ``{a|b}`` and prompt editing ``[from:to:when]``.

A diffusion UI draws a prompt with ``[child|cat]`` by switching words every step, and dynamic-prompt
tools pick one of ``{a|b}`` per image, so the model sees every option.  Each option can also hide part of a
word (``na[ke|ke]d``).  Rather than teach each detector the syntax, the filter checks each reading:
reading ``k`` takes option ``k`` of every group, as the UIs do step by step (the prompt as written,
brackets and bars and all, is not what any model sees, and reading it literally glues options into false
words).  A group
of single characters (``[n|a|k|e|d]``) is a separator trick, not a choice, and stays as written.
Prompts without the syntax have one reading, so this costs nothing for them.
"""

from __future__ import annotations

import re

__all__ = ["MAX_READINGS", "readings"]

MAX_READINGS = 4  # alternation steps checked (options beyond the fourth are rare)
_GROUP = re.compile(r"\[([^\[\]{}]*)\]|\{([^{}\[\]]*)\}")  # innermost groups: "{desn[u|u]da}" is one word
_WHEN = re.compile(r"^\s*\d*\.?\d+\s*$")


def _options(inner: str, square: bool) -> list[str] | None:
    """The options of one bracket group, or None when it is plain emphasis (``[word]``, ``{word}``) or a
    word spelt with bars (``[n|a|k|e|d]``: no model alternates between single letters)."""
    if "|" in inner:
        options = inner.split("|")
        return None if len(options) >= 3 and all(len(o.strip()) <= 1 for o in options) else options
    if square and inner.count(":") == 2:  # [from:to:when]: the model sees both words
        before, after, when = inner.split(":")
        return [before, after] if _WHEN.match(when) else None
    return None


def readings(text: str, limit: int = MAX_READINGS) -> list[str]:
    """One text per alternation step (at most ``limit``), or ``[text]`` when it has no alternation."""
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
    out: list[str] = []
    for step in range(min(steps, limit)):
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
