"""Compile a word list into one regular expression shaped like a trie: ``kid|kiddo|kids`` -> ``kid(?:do|s)?``.

Python's regex engine tries the branches of an alternation one by one at every position, so a flat
alternation of hundreds of terms costs microseconds per word; sharing prefixes lets it reject a position
after a character or two.  The match semantics are those of the flat alternation sorted longest first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["trie_pattern"]

_END = ""


def _insert(trie: dict[str, dict], word: str) -> None:
    node = trie
    for ch in word:
        node = node.setdefault(ch, {})
    node[_END] = {}


def _pattern(node: dict[str, dict]) -> str:
    branches = [re.escape(ch) + _pattern(child) for ch, child in sorted(node.items()) if ch != _END]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if _END in node:  # a word may stop here: try the longer words first, as "longest first" would
        return f"(?:{body})?" if len(branches) > 1 or len(branches[0]) > 1 else f"{body}?"
    return body


def trie_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    """One compiled pattern matching any of ``words`` (longest alternative first), or None for no words."""
    trie: dict[str, dict] = {}
    for word in words:
        if word:
            _insert(trie, word)
    return re.compile(_pattern(trie)) if trie else None
