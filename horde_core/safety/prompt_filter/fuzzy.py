"""Typo tolerance: find the term a misspelt word was meant to be, cheaply and without crying wolf.

Distance is Damerau-Levenshtein (optimal string alignment: a swap of two neighbours costs one), allowed
up to 1 for terms of 5-7 letters and 2 for terms of 8 or more (so "nakd" still finds "naked"); terms
outside the ``wide`` set (by default every language but English and slang) allow 1 at any length, since
two edits from a long word of Spanish or Portuguese is too often another real word.  Four-letter
terms only forgive one extra letter or one swap ("sexsy", "nued"); shorter terms are never fuzzy-matched,
because at three letters one edit turns almost any word into another.

Comparing a token against every term would cost milliseconds, so the index stores each term's deletion
neighbourhood (the SymSpell idea): two words within distance d share a string reachable by at most d
deletions from each, so a lookup is a handful of dict probes plus an exact check of the few candidates.
A benign allowlist (real words that sit one typo from a term, like "chile" or "baked") is never matched,
and the first letter must agree (or be swapped with the second): deliberate misspellings keep it.
"""

# ruff: noqa: RUF001  (Cyrillic keyboard rows and vowels)

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
    """Every string obtained by deleting up to ``depth`` (1 or 2) characters from ``word`` (never below 3
    letters), sliced directly: this runs for every new word of every prompt."""
    n = len(word)
    out = {word}
    if n > 3:
        out.update([word[:i] + word[i + 1:] for i in range(n)])
        if depth > 1 and n > 4:
            out.update([word[:i] + word[i + 1:j] + word[j + 1:] for i in range(n - 1) for j in range(i + 1, n)])
    return out


def _is_deletion(short: str, long: str) -> bool:
    """True when ``short`` is ``long`` with exactly one character removed."""
    return len(long) == len(short) + 1 and any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _is_swap(a: str, b: str) -> bool:
    """True when ``a`` is ``b`` with two neighbouring letters swapped."""
    diff = [i for i in range(len(a)) if a[i] != b[i]] if len(a) == len(b) else []
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")
_SOUND_ALIKE = ("dt", "bp", "gk", "fv", "sz", "ck", "cs", "kq", "yz", "aq", "wz", "mn", "ij", "ks", "xs", "ye",
                "сз", "тд", "бп", "гк", "вф", "шщ", "еэ", "иы")
_VOWELS = frozenset("aeiouyаеёиоуыэюяáéíóúàèìòùäëïöü")


def _similar_pairs() -> frozenset[frozenset[str]]:
    pairs = {frozenset(p) for p in _SOUND_ALIKE}
    for row in _KEY_ROWS:
        pairs.update(frozenset(row[i:i + 2]) for i in range(len(row) - 1))
    for upper, lower in zip(_KEY_ROWS[:2] + _KEY_ROWS[3:5], _KEY_ROWS[1:3] + _KEY_ROWS[4:6], strict=True):
        for i, ch in enumerate(lower):  # keys diagonally above: "s" touches "w" and "e"
            pairs.update(frozenset(ch + up) for up in upper[i:i + 2])
    return frozenset(pairs)


_SIMILAR = _similar_pairs()


def plausible_substitution(token: str, term: str) -> bool:
    """A letter replaced by its neighbour on the keyboard, by one that sounds alike, or a vowel by a vowel:
    the typos people make and the misspellings they choose.  "nakef" and "naket" are "naked"; "shott" (a
    doubled "shot") is not "shota"."""
    diff = [i for i in range(len(token)) if token[i] != term[i]]
    if len(diff) != 1:
        return True
    a, b = token[diff[0]], term[diff[0]]
    return (a in _VOWELS and b in _VOWELS) or frozenset((a, b)) in _SIMILAR


def acceptable(token: str, term: str, distance: int, wide: bool = True) -> bool:
    """The typo rules: 2 edits on long terms (1 unless ``wide``), 1 on 5-7 letters, and on four-letter terms
    only one extra letter ("sexsy", "nudde") or one swap ("nued"); a four-letter token may drop one letter
    of a five-letter term ("nakd").  A single substituted letter must be a plausible one."""
    if distance == 1 and len(token) == len(term) and not (_is_swap(token, term) or plausible_substitution(token, term)):
        return False
    if len(term) >= LONG_LENGTH:
        return distance <= (2 if wide else 1) and len(token) >= MIN_LENGTH
    if len(term) >= MIN_LENGTH:
        return distance <= 1 and (len(token) >= MIN_LENGTH or _is_deletion(token, term))
    if len(term) == MIN_LENGTH - 1:
        return _is_deletion(term, token) or _is_swap(token, term)
    return False


class FuzzyIndex:
    """Deletion-neighbourhood index over the fuzzy-matchable terms.

    ``aliases`` are further spellings of a term that a typo may start from: the Russian original of a
    transliterated term (a swap of two Cyrillic letters is one edit there, three in Latin letters) and
    plurals ("kdis" is a swap away from "kids", not from "kid").  ``lookup`` answers with the term.
    """

    def __init__(self, words: Iterable[str], benign: Iterable[str] = (), wide: Iterable[str] | None = None,
                 aliases: dict[str, str] | None = None, weights: dict[str, float] | None = None) -> None:
        self._benign = frozenset(benign)
        self._weights = weights or {}  # on a tie, the stronger term wins ("inño": niño before nino)
        self._index: dict[str, set[str]] = {}
        plain = frozenset(words)
        self._target = {a: t for a, t in (aliases or {}).items() if t in plain}
        self._target.update((w, w) for w in plain)
        self._words = frozenset(w for w in self._target if len(w) >= MIN_LENGTH - 1 and w.isalpha())
        wide_terms = plain if wide is None else plain & frozenset(wide)
        self._wide = frozenset(w for w in self._words if self._target[w] in wide_terms)
        for word in self._words:
            depth = max(1, allowed_distance(len(word))) if word in self._wide else 1
            for key in _deletions(word, depth):
                self._index.setdefault(key, set()).add(word)
        self._longest = max((len(w) for w in self._words), default=0)

    def lookup(self, token: str) -> str | None:
        """The closest term within the typo rules, or None (exact terms are the caller's job)."""
        found = self.scored(token)
        return found[1] if found else None

    def scored(self, token: str) -> tuple[tuple[int, float, int, str], str] | None:
        """(sort key, term) of the closest term, or None; a smaller key is a better guess."""
        if len(token) < MIN_LENGTH - 1 or token in self._benign or token in self._words or not token.isalpha():
            return None
        if len(token) > self._longest + 2:
            return None
        candidates: set[str] = set()
        index = self._index
        for key in _deletions(token, 1):
            found = index.get(key)
            if found:
                candidates.update(found)
        best: tuple[int, float, int, str] | None = None
        for word in candidates:
            if token[0] != word[0] and token[:2] != word[1::-1]:
                continue  # typos rarely hit the first letter; requiring it halves accidental matches
            distance = damerau_levenshtein(token, word, 2)
            key = (distance, -self._weights.get(self._target[word], 0.0), -len(word), word)
            if acceptable(token, word, distance, word in self._wide) and (best is None or key < best):
                best = key
        return (best, self._target[best[3]]) if best else None
