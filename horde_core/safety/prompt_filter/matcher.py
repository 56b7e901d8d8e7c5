"""Find term evidence in a normalised prompt: words, phrases, prefixes, typos, compounds, CJK, pairs.

Each token is first *resolved* to the vocabulary words it may stand for (exact spelling, a leetspeak
reading, a plural, a squeezed repeat, a typo, or the pieces of a run-together compound like
``nakedkid``); phrases and pair rules then work on those resolved units, so ``l1ttle g1rl`` and
``litle girl`` reach the same phrase as ``little girl``.  Resolutions are cached per spelling because
prompts reuse the same few thousand words all day.
"""

from __future__ import annotations

import re
from itertools import pairwise

from horde_core.safety.prompt_filter.agehits import age_hits
from horde_core.safety.prompt_filter.hit import Hit
from horde_core.safety.prompt_filter.normalize import NormalizedText, Token, squeeze
from horde_core.safety.prompt_filter.resolve import Resolver, Unit
from horde_core.safety.prompt_filter.terms import Entry, TermSet
from horde_core.safety.prompt_filter.trie import trie_pattern

__all__ = ["Hit", "Matcher"]

_MIN_STREAM = 6


def _strongest_per_group(hits: list[Hit]) -> list[Hit]:
    """One position is one piece of evidence per group, however many spellings of it the lists hold
    ("лоли", "loli" and "loli*" all fire on one token; it still counts once)."""
    best: dict[str, Hit] = {}
    for hit in hits:
        seen = best.get(hit.entry.group)
        if seen is None or hit.entry.weight > seen.entry.weight:
            best[hit.entry.group] = hit
    return list(best.values())


_Placed = tuple[Unit, int, int, bool]  # a unit, its first and last original word, a tag break before it


class Matcher:
    """Precompiled indexes over one ``TermSet``; ``match`` is pure apart from the resolver's bounded cache."""

    def __init__(self, terms: TermSet) -> None:
        self.terms = terms
        self._resolver = Resolver(terms)
        self._strong = self._resolver.strong
        containers = [b for b in terms.benign if any(s in b for s in (*terms.substrings, *terms.cjk))]
        benign_cjk = sorted((b for b in containers if not b.isascii()), key=len, reverse=True)
        self._benign_re = self._resolver.benign_re
        self._benign_cjk_re = trie_pattern(benign_cjk)
        self._stream_re = self._alternation([s for s in terms.substrings if len(s) >= _MIN_STREAM])
        self._cjk_re = self._alternation(sorted(terms.cjk, key=len, reverse=True))
        self._pair_words = frozenset(w for rule in terms.pairs for w in rule.a | rule.b)

    @staticmethod
    def _alternation(items: list[str] | tuple[str, ...]) -> re.Pattern[str] | None:
        return trie_pattern(items)

    # --- matching a whole text -----------------------------------------------------------------------
    def _units(self, tokens: tuple[Token, ...]) -> list[_Placed]:
        units: list[_Placed] = []
        for token in tokens:
            if not token.cjk:
                resolved = self._resolver.resolve(token)
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
                        unit = Unit(frozenset({word}), (), "joined", text)
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
        if norm.cjk or any(u.age or not u.source.isalpha() for u, _, _, _ in units):  # anything age-like at all
            hits.extend(age_hits(norm, self._age_words(norm, units), self._resolver.age_guess))
        return hits

    @staticmethod
    def _age_words(norm: NormalizedText, units: list[_Placed]) -> list[tuple[str, int, int]]:
        """What the age patterns read at each position: the age word a unit resolved to, else its one
        candidate, else its spelling; CJK tokens (``10歳``) keep their place among them."""
        words = [(u.age or (next(iter(u.cands)) if len(u.cands) == 1 else u.source), first, last)
                 for u, first, last, _ in units]
        if norm.cjk:
            words += [(t.forms[0], t.first, t.last) for t in norm.tokens if t.cjk]
            words.sort(key=lambda w: w[1])
        return words

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
                hits.extend(Hit(e, "stream", m.group()) for e in self._resolver.entries_for(m.group()))
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
