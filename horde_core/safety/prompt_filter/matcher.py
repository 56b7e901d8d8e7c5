"""Find term evidence in a normalised prompt: words, phrases, prefixes, typos, compounds, CJK, pairs.

Each token is first *resolved* to the vocabulary words it may stand for (exact spelling, a leetspeak
reading, a plural, a squeezed repeat, a typo, or the pieces of a run-together compound like
``nakedkid``); phrases and pair rules then work on those resolved units, so ``l1ttle g1rl`` and
``litle girl`` reach the same phrase as ``little girl``.  Resolutions are cached per spelling because
prompts reuse the same few thousand words all day.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from itertools import pairwise

from horde_core.safety.prompt_filter.fuzzy import FuzzyIndex
from horde_core.safety.prompt_filter.normalize import NormalizedText, Token, squeeze
from horde_core.safety.prompt_filter.terms import Entry, TermSet

__all__ = ["Hit", "Matcher"]

_FILLERS = frozenset({"a", "an", "the", "and", "my", "her", "his", "with", "of", "in", "x"})
_SHORT_PIECES = frozenset({"sex", "kid", "boy", "xxx", "cp"})
_CACHE_LIMIT = 50000
_MIN_COMPOUND = 6
_MIN_STREAM = 6


@dataclass(frozen=True, slots=True)
class Hit:
    """One piece of evidence: the entry it fed, how it was found, and the original words it covers."""

    entry: Entry
    how: str
    source: str
    first: int = -1
    last: int = -1

    def label(self) -> str:
        """Compact audit-log form, e.g. ``underage:child`` or ``sexual:naked~fuzzy(nakde)``."""
        base = f"{self.entry.group}:{self.entry.term}"
        return base if self.how in ("exact", "phrase") else f"{base}~{self.how}({self.source})"


@dataclass(frozen=True, slots=True)
class _Unit:
    """A resolved position: vocabulary candidates plus direct hits (prefix/substring) that need no vocab."""

    cands: frozenset[str]
    extras: tuple[tuple[Entry, str], ...]
    how: str
    source: str


def _strongest_per_group(hits: list[Hit]) -> list[Hit]:
    """One position is one piece of evidence per group, however many spellings of it the lists hold
    ("лоли", "loli" and "loli*" all fire on one token; it still counts once)."""
    best: dict[str, Hit] = {}
    for hit in hits:
        seen = best.get(hit.entry.group)
        if seen is None or hit.entry.weight > seen.entry.weight:
            best[hit.entry.group] = hit
    return list(best.values())


_Placed = tuple[_Unit, int, int, bool]  # a unit, its first and last original word, a tag break before it


class Matcher:
    """Precompiled indexes over one ``TermSet``; ``match`` is pure apart from its bounded caches."""

    def __init__(self, terms: TermSet) -> None:
        self.terms = terms
        self._fuzzy = FuzzyIndex(terms.fuzzy_words, terms.benign)
        # Pieces of run-together words: 4+ letters, or one of a few core short terms; three-letter words
        # like "ero" or "ass" would split half the dictionary of other languages ("adultero", "assassina").
        self._compound_vocab = frozenset(w for w in terms.words if len(w) >= 4) | _SHORT_PIECES | _FILLERS
        strong_phrases = (words for phrase in terms.phrases.values() for words, es in phrase
                          if any(e.group in ("underage", "sexual") and e.weight >= 1.0 for e in es))
        self._strong = frozenset(w for w, es in terms.words.items()
                                 if any(e.group in ("underage", "sexual") and e.weight >= 0.8 for e in es)
                                 ) | frozenset(w for words in strong_phrases for w in words if len(w) >= 4)
        self._by_length: dict[int, list[str]] = {}
        for word in terms.vocab:
            self._by_length.setdefault(len(word), []).append(word)
        # Only benign words that contain a substring term matter for substring search ("lolipop", "knackt").
        containers = [b for b in terms.benign if any(s in b for s in (*terms.substrings, *terms.cjk))]
        benign_latin = sorted((b for b in containers if b.isascii()), key=len, reverse=True)
        benign_cjk = sorted((b for b in containers if not b.isascii()), key=len, reverse=True)
        self._benign_re = re.compile("|".join(map(re.escape, benign_latin))) if benign_latin else None
        self._benign_cjk_re = re.compile("|".join(map(re.escape, benign_cjk))) if benign_cjk else None
        self._substring_re = self._alternation(terms.substrings)
        self._stream_re = self._alternation([s for s in terms.substrings if len(s) >= _MIN_STREAM])
        self._cjk_re = self._alternation(sorted(terms.cjk, key=len, reverse=True))
        self._cache: dict[tuple[str, ...], tuple[_Unit, ...]] = {}
        self._pair_words = frozenset(w for rule in terms.pairs for w in rule.a | rule.b)
        self._longest_prefix = max((len(p) for p in terms.prefixes), default=0)

    @staticmethod
    def _alternation(items: list[str] | tuple[str, ...]) -> re.Pattern[str] | None:
        ordered = sorted(items, key=len, reverse=True)
        return re.compile("|".join(re.escape(i) for i in ordered)) if ordered else None

    # --- resolving one token -------------------------------------------------------------------------
    def _entries_for(self, word: str) -> tuple[Entry, ...]:
        return self.terms.words.get(word, ()) or self.terms.prefixes.get(word, ())

    def _prefix_extras(self, form: str) -> list[tuple[Entry, str]]:
        prefixes = self.terms.prefixes
        top = min(len(form), self._longest_prefix)
        return [(e, "prefix") for k in range(3, top + 1) for e in prefixes.get(form[:k], ())]

    def _stems(self, form: str) -> list[str]:
        out = []
        if len(form) > 3 and form.endswith("s"):
            out.append(form[:-1])
            if form.endswith(("ses", "xes", "zes", "ches", "shes")):
                out.append(form[:-2])
            if form.endswith("ies"):
                out.append(form[:-3] + "y")
        if len(form) > 3 and form.endswith("z"):  # "kidz", "boyz"
            out.append(form[:-1])
        return [s for s in out if s in self.terms.vocab]

    def _compound(self, form: str) -> list[str] | None:
        """Split a run-together word into vocabulary words (fewest pieces), e.g. ``sexykid``."""
        if len(form) < _MIN_COMPOUND or len(form) > 40 or form in self.terms.benign:
            return None
        best: list[list[str] | None] = [[]] + [None] * len(form)
        for end in range(1, len(form) + 1):
            for start in range(max(0, end - 20), end):
                piece = form[start:end]
                head = best[start]
                if head is None:
                    continue
                if piece not in self._compound_vocab and piece.endswith("s") and len(piece) > 3:
                    piece = piece[:-1]
                if piece in self._compound_vocab:
                    candidate = [*head, piece]
                    current = best[end]
                    if current is None or len(candidate) < len(current):
                        best[end] = candidate
        pieces = best[-1]
        if not pieces or len(pieces) < 2 or not any(p in self._strong for p in pieces):
            return None
        return pieces

    def _resolve(self, forms: tuple[str, ...]) -> tuple[_Unit, ...]:
        cached = self._cache.get(forms)
        if cached is not None:
            return cached
        units = self._resolve_uncached(forms)
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.clear()
        self._cache[forms] = units
        return units

    def _resolve_uncached(self, forms: tuple[str, ...]) -> tuple[_Unit, ...]:
        vocab = self.terms.vocab
        # The most literal spelling that is a known word wins: "1boy" (a booru count tag) is not "boy".
        exact = {next(f for f in forms if f in vocab)} if any(f in vocab for f in forms) else set()
        if not exact and any(f in self.terms.benign for f in forms):
            return (_Unit(frozenset(), (), "", forms[-1]),)
        extras = [x for f in forms for x in self._prefix_extras(f)]
        if exact:
            return (_Unit(frozenset(exact), tuple(extras), "exact", forms[-1]),)
        stems = {s for f in forms for s in self._stems(f)}
        if stems:
            return (_Unit(frozenset(stems), tuple(extras), "exact", forms[-1]),)
        for form in forms:
            if "*" in form:  # censor star: "n*ked", "s*x"
                pattern = form.replace("*", "?")
                found = sorted((w for w in self._by_length.get(len(form), ()) if fnmatch.fnmatchcase(w, pattern)),
                               key=lambda w: (w not in self._strong, w))
                if found:
                    return (_Unit(frozenset(found[:1]), tuple(extras), "wildcard", form),)
        for form in forms:
            pieces = self._compound(form)
            if pieces:
                head = _Unit(frozenset({pieces[0]}), tuple(extras), "compound", form)
                return (head, *(_Unit(frozenset({p}), (), "compound", form) for p in pieces[1:]))
        for form in forms:
            guess = self._fuzzy.lookup(form)
            if guess:
                return (_Unit(frozenset({guess}), tuple(extras), "fuzzy", form),)
        if not extras and self._substring_re is not None:
            for form in dict.fromkeys((*forms, *(squeeze(f) for f in forms))):
                cleaned = self._benign_re.sub("|", form) if self._benign_re else form
                for m in self._substring_re.finditer(cleaned):
                    extras.extend((e, "substring") for e in self._entries_for(m.group()))
        return (_Unit(frozenset(), tuple(extras), "", forms[-1]),)

    # --- matching a whole text -----------------------------------------------------------------------
    def _units(self, tokens: tuple[Token, ...]) -> list[_Placed]:
        units: list[_Placed] = []
        for token in tokens:
            if not token.cjk:
                resolved = self._resolve(token.forms)
                units.extend((u, token.first, token.last, token.gap and k == 0) for k, u in enumerate(resolved))
        return self._join_fragments(units)

    def _join_fragments(self, units: list[_Placed]) -> list[_Placed]:
        """Rejoin a word split by a space (``ch ild``, ``nak ed``) when neither part is a word we know."""

        def loose(k: int) -> bool:
            unit = units[k][0]
            return not unit.cands and not unit.extras and len(unit.source) <= 6

        short = [loose(k) and len(units[k][0].source) <= 3 for k in range(len(units))]
        if not any(a and b for a, b in pairwise(short)):
            return units
        out: list[_Placed] = []
        i = 0
        while i < len(units):
            joined = None
            if i + 1 < len(units) and loose(i) and loose(i + 1):
                for width in (3, 2):
                    group = units[i:i + width]
                    if len(group) < width or not all(loose(k) for k in range(i, i + width)):
                        continue
                    if min(len(u.source) for u, _, _, _ in group) > 3:
                        continue
                    if any(gap for _, _, _, gap in group[1:]):
                        continue
                    text = "".join(u.source for u, _, _, _ in group)
                    word = text if text in self.terms.vocab else squeeze(text)
                    if len(text) >= 4 and word in self.terms.vocab:
                        unit = _Unit(frozenset({word}), (), "joined", text)
                        joined = (unit, group[0][1], group[-1][2], group[0][3]), width
                        break
            if joined:
                out.append(joined[0])
                i += joined[1]
            else:
                out.append(units[i])
                i += 1
        return out

    def match(self, norm: NormalizedText) -> list[Hit]:
        """All evidence in one normalised text (positive or negative prompt alike)."""
        units = self._units(norm.tokens)
        hits: list[Hit] = []
        consumed_by_context: set[int] = set()
        i = 0
        while i < len(units):
            unit, first, _, _ = units[i]
            if not unit.cands and not unit.extras:
                i += 1
                continue
            best: tuple[tuple[str, ...], tuple[Entry, ...]] | None = None
            for cand in unit.cands:
                for words, entries in self.terms.phrases.get(cand, ()):
                    n = len(words)
                    if (best is None or n > len(best[0])) and i + n <= len(units) and all(
                            words[k] in units[i + k][0].cands and not units[i + k][3] for k in range(1, n)):
                        best = (words, entries)
            if best is not None:
                n = len(best[0])
                last = units[i + n - 1][2]
                found = [Hit(e, "phrase", " ".join(best[0]), first, last) for e in best[1]]
                if any(e.group in ("context", "safe") for e in best[1]):
                    consumed_by_context.update(range(i, i + n))  # "lolita fashion": its words are spent
                else:
                    found += [Hit(e, how, units[k][0].source, units[k][1], units[k][2])
                              for k in range(i, i + n) for e, how in units[k][0].extras]
                hits.extend(_strongest_per_group(found))
                i += n
                continue
            found = [Hit(e, unit.how, unit.source, first, units[i][2])
                     for cand in sorted(unit.cands) for e in self.terms.words.get(cand, ())]
            found += [Hit(e, how, unit.source, first, units[i][2]) for e, how in unit.extras]
            hits.extend(_strongest_per_group(found))
            i += 1
        hits.extend(self._pairs(units, consumed_by_context))
        hits.extend(self._stream(norm.stream))
        hits.extend(self._cjk(norm))
        return hits

    def _pairs(self, units: list[_Placed], skip: set[int]) -> list[Hit]:
        positions: dict[str, list[int]] = {}
        for i, (unit, _, _, _) in enumerate(units):
            if i not in skip:
                for cand in unit.cands & self._pair_words:
                    positions.setdefault(cand, []).append(i)
        if not positions:
            return []
        hits = []
        for rule in self.terms.pairs:
            a_pos = [i for w in rule.a if w in positions for i in positions[w]]
            b_pos = [i for w in rule.b if w in positions for i in positions[w]] if a_pos else []
            pair = next(((a, b) for a in a_pos for b in b_pos if a != b and abs(a - b) <= rule.window), None)
            if pair:
                lo, hi = min(pair), max(pair)
                entry = Entry(f"pair:{rule.name}", rule.group, rule.weight)
                words = "+".join(sorted(units[k][0].source for k in pair))
                hits.append(Hit(entry, "pair", words, units[lo][1], units[hi][2]))
        return hits

    def _stream(self, stream: str) -> list[Hit]:
        """Long, distinctive terms anywhere in the de-spaced letters (``to ddl er``, ``pre-teen``)."""
        if self._stream_re is None or not stream:
            return []
        hits = []
        for text in dict.fromkeys((stream, squeeze(stream))):
            if not self._stream_re.search(text):
                continue
            cleaned = self._benign_re.sub("|", text) if self._benign_re else text
            for m in self._stream_re.finditer(cleaned):
                hits.extend(Hit(e, "stream", m.group()) for e in self._entries_for(m.group()))
        return hits

    def _cjk(self, norm: NormalizedText) -> list[Hit]:
        if self._cjk_re is None or not norm.cjk:
            return []
        spans: list[tuple[int, int, int]] = []  # (start offset in cjk stream, first word, last word)
        offset = 0
        for token in norm.tokens:
            if token.cjk:
                spans.append((offset, token.first, token.last))
                offset += len(token.forms[0])
        text = self._benign_cjk_re.sub(lambda m: "|" * len(m.group()), norm.cjk) if self._benign_cjk_re else norm.cjk
        hits = []
        for m in self._cjk_re.finditer(text):
            owner = [s for s in spans if s[0] <= m.start()]
            first = owner[-1][1] if owner else -1
            end_owner = [s for s in spans if s[0] < m.end()]
            last = end_owner[-1][2] if end_owner else -1
            hits.extend(Hit(e, "cjk", m.group(), first, last) for e in self.terms.cjk[m.group()])
        return hits
