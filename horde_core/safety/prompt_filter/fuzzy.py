"""Typo tolerance: find the term a misspelt word was meant to be, cheaply and without crying wolf.

Distance is Damerau-Levenshtein (optimal string alignment: a swap of two neighbours costs one), allowed
up to 1 for terms of 5-7 letters and 2 for terms of 8 or more (so "nakd" still finds "naked").  Four-letter
terms only forgive one extra letter or one swap ("sexsy", "nued"); shorter terms are never fuzzy-matched,
because at three letters one edit turns almost any word into another.

Comparing a token against every term would cost milliseconds, so the index stores each term's deletion
neighbourhood (the SymSpell idea): two words within distance d share a string reachable by at most d
deletions from each, so a lookup is a handful of dict probes plus an exact check of the few candidates.
A benign allowlist (real words that sit one typo from a term, like "chile" or "baked") is never matched,
and the first letter must agree (or be swapped with the second): deliberate misspellings keep it.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["FuzzyIndex", "acceptable", "allowed_distance", "damerau_levenshtein"]

MIN_LENGTH = 5
LONG_LENGTH = 8


def allowed_distance(length: int) -> int:
    """Edits tolerated for a term of ``length`` letters."""
    if length >= LONG_LENGTH:
        return 2
    return 1 if length >= MIN_LENGTH else 0


def damerau_levenshtein(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment distance, giving up (returning ``limit + 1``) once it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _deletions(word: str, depth: int) -> set[str]:
    """Every string obtained by deleting up to ``depth`` characters from ``word`` (never below 3 letters)."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier if len(w) > 3 for i in range(len(w))}
        out |= frontier
    return out


def _is_deletion(short: str, long: str) -> bool:
    """True when ``short`` is ``long`` with exactly one character removed."""
    return len(long) == len(short) + 1 and any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _is_swap(a: str, b: str) -> bool:
    """True when ``a`` is ``b`` with two neighbouring letters swapped."""
    diff = [i for i in range(len(a)) if a[i] != b[i]] if len(a) == len(b) else []
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def acceptable(token: str, term: str, distance: int) -> bool:
    """The typo rules: 2 edits on long terms, 1 on 5-7 letters, and on four-letter terms only one extra
    letter ("sexsy", "nudde") or one swap ("nued"); a four-letter token may drop one letter of a
    five-letter term ("nakd")."""
    if len(term) >= LONG_LENGTH:
        return distance <= 2 and len(token) >= MIN_LENGTH
    if len(term) >= MIN_LENGTH:
        return distance <= 1 and (len(token) >= MIN_LENGTH or _is_deletion(token, term))
    if len(term) == MIN_LENGTH - 1:
        return _is_deletion(term, token) or _is_swap(token, term)
    return False


class FuzzyIndex:
    """Deletion-neighbourhood index over the fuzzy-matchable terms."""

    def __init__(self, words: Iterable[str], benign: Iterable[str] = ()) -> None:
        self._benign = frozenset(benign)
        self._index: dict[str, set[str]] = {}
        self._words = frozenset(w for w in words if len(w) >= MIN_LENGTH - 1 and w.isalpha())
        for word in self._words:
            for key in _deletions(word, max(1, allowed_distance(len(word)))):
                self._index.setdefault(key, set()).add(word)
        self._longest = max((len(w) for w in self._words), default=0)

    def lookup(self, token: str) -> str | None:
        """The closest term within the typo rules, or None (exact terms are the caller's job)."""
        if len(token) < MIN_LENGTH - 1 or token in self._benign or token in self._words or not token.isalpha():
            return None
        if len(token) > self._longest + 2:
            return None
        candidates: set[str] = set()
        index = self._index
        for key in _deletions(token, 2 if len(token) >= LONG_LENGTH - 2 else 1):
            found = index.get(key)
            if found:
                candidates.update(found)
        best: tuple[int, int, str] | None = None
        for word in candidates:
            if token[0] != word[0] and token[:2] != word[1::-1]:
                continue  # typos rarely hit the first letter; requiring it halves accidental matches
            distance = damerau_levenshtein(token, word, 2)
            if acceptable(token, word, distance) and (best is None or (distance, -len(word), word) < best):
                best = (distance, -len(word), word)
        return best[2] if best else None
