"""Resolve one token to the words it may stand for: terms for the matcher, age words for the age detector.

This is the single place where spellings become words, so every detector reads the same result.  A token
is tried, in order, as: a known word in any of its spellings (``normalize.token_forms``: leetspeak,
look-alikes, separators ...), a plural, a word with deliberate repeats (``ragaaaazzina`` -> ``ragazzina``:
repeats are compared squeezed on both sides), a number with its unit (``12yo``, ``9yyyyo``), a censored
word (``n*ked``), a run-together compound (``nakedkid``), a cut of letters spelt out (``nudechild`` or
``nude12yearold``), a typo, and finally a distinctive substring.  Results are cached per spelling because
prompts reuse the same few thousand words all day.
"""

from __future__ import annotations

import fnmatch
import re
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from horde_core.safety.prompt_filter.ages import age_units, age_words, guard_words, person_words
from horde_core.safety.prompt_filter.fuzzy import FuzzyIndex
from horde_core.safety.prompt_filter.normalize import Token, squeeze, token_forms
from horde_core.safety.prompt_filter.terms import Entry, TermSet
from horde_core.safety.prompt_filter.trie import trie_pattern

__all__ = ["Resolver", "Unit"]

FILLERS = frozenset({"a", "an", "the", "and", "my", "her", "his", "with", "of", "in", "x"})
_SHORT_PIECES = frozenset({"sex", "kid", "boy", "xxx", "cp"})
_ORDINARY_LETTERS = frozenset("aiyoeuàè") | frozenset("иваску")  # one-letter words of the languages served
_CACHE_LIMIT = 50000
_MIN_COMPOUND = 6
_SPELLED_WINDOW = 20
_SPELLED_COVER = 0.5  # a spelt-out run must be at least half known words to be cut into them
_MIN_TYPO_PIECE, _MAX_TYPO_PIECE, _MAX_TYPO_CUT = 4, 14, 30  # bounds on typo guesses inside a spelt-out run
_NUMBER_UNIT = re.compile(r"^(\d{1,4})([^\W\d_].*)$")
_REPEAT = re.compile(r"([^\W\d_])\1")
_TRIPLE = re.compile(r"([^\W\d_])\1\1")
_MIN_AGE_FUZZY_NUMBER = 6  # "twelve", "thirteen"; "tree" must not become "three"
_MIN_FUZZY_PREFIX = 6  # "déshabill*" forgives "déahabillée"; short stems ("nackt*", "porn*") would match anything
_MAX_ENDING = 3  # letters after a misspelt prefix: an inflection ("-ée", "-ing"), not another word
# Kept as written for the age patterns: "3rd" is not "erd", and "l2" or "1O" may be 12 and 10 beside a unit.
_NUMBERISH = re.compile(r"^(?:\d+(?:[.,]\d+)*(?:st|nd|rd|th)?|(?=.*\d)[\dlio|]{2,4})$")


@dataclass(frozen=True, slots=True)
class Unit:
    """A resolved position: vocabulary candidates, direct hits (prefix/substring) that need no vocabulary,
    and the word the age patterns read here (a number, "years", "twelve"; "" when none)."""

    cands: frozenset[str]
    extras: tuple[tuple[Entry, str], ...]
    how: str
    source: str
    age: str = ""


def _squeezed_index(words: frozenset[str]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for word in words:
        out[squeeze(word)].add(word)
    return {k: frozenset(v) for k, v in out.items()}


class Resolver:
    """Precomputed vocabularies over one ``TermSet``; ``resolve`` is pure apart from its bounded cache."""

    def __init__(self, terms: TermSet) -> None:
        self.terms = terms
        self._ages = age_words()
        self._units = age_units()
        self._known = terms.vocab | self._ages
        strength = {w: max(e.weight for e in es) for w, es in terms.words.items()}
        self._fuzzy = FuzzyIndex(terms.fuzzy_words, terms.benign, terms.fuzzy_wide, terms.fuzzy_aliases, strength)
        # Only ever asked beside a number, so real words near an age word ("gril" is French) cost nothing.
        self._age_fuzzy = FuzzyIndex(w for w in self._ages if w in self._units or w in guard_words()
                                     or w in person_words() or len(w) >= _MIN_AGE_FUZZY_NUMBER)
        # Pieces of run-together words: 4+ letters, or one of a few core short terms; three-letter words
        # like "ero" or "ass" would split half the dictionary of other languages ("adultero", "assassina").
        self._compound_vocab = frozenset(w for w in terms.words if len(w) >= 4) | _SHORT_PIECES | FILLERS
        self._spelled_vocab = (frozenset(w for w in self._known if len(w) >= 2) | FILLERS | _ORDINARY_LETTERS
                               | frozenset(p for p in terms.prefixes if len(p) >= 4))
        strong_phrases = (words for phrase in terms.phrases.values() for words, es in phrase
                          if any(e.group in ("underage", "sexual") and e.weight >= 1.0 for e in es))
        self.strong = frozenset(w for w, es in terms.words.items()
                                if any(e.group in ("underage", "sexual") and e.weight >= 0.8 for e in es)
                                ) | frozenset(w for words in strong_phrases for w in words if len(w) >= 4)
        self._by_length: dict[int, list[str]] = {}
        for word in terms.vocab:
            self._by_length.setdefault(len(word), []).append(word)
        long_prefixes = [p for p, es in terms.prefixes.items() if len(p) >= _MIN_FUZZY_PREFIX and p.isalpha()
                         and any(e.group in ("underage", "sexual") and e.weight >= 1.0 for e in es)]
        self._prefix_fuzzy = FuzzyIndex(long_prefixes, terms.benign)
        starts: dict[str, set[int]] = defaultdict(set)
        for p in long_prefixes:  # the first two letters as a typo may leave them: kept, swapped, one lost
            for head in (p[:2], p[1::-1], p[0] + p[2]):
                starts[head].add(len(p))
        self._prefix_lengths = {k: sorted(v) for k, v in starts.items()}
        strong_pieces = sorted((w for w in self._compound_vocab if w in self.strong), key=len, reverse=True)
        self._strong_re = trie_pattern(strong_pieces)
        self._squeezed = _squeezed_index(self._known)
        self._squeezed_prefixes = _squeezed_index(frozenset(terms.prefixes))
        self._longest_prefix = max((len(p) for p in terms.prefixes), default=0)
        heads = sorted({p[:3] for p in terms.prefixes if len(p) >= 3})
        self._prefix_head = trie_pattern(heads)
        containers = [b for b in terms.benign if any(s in b for s in (*terms.substrings, *terms.cjk))]
        benign_latin = sorted((b for b in containers if b.isascii()), key=len, reverse=True)
        self.benign_re = trie_pattern(benign_latin)
        ordered = sorted(terms.substrings, key=len, reverse=True)
        self._substring_re = trie_pattern(ordered)
        self._cache: OrderedDict[tuple[tuple[str, ...], bool], tuple[Unit, ...]] = OrderedDict()

    def age_guess(self, word: str) -> str | None:
        """The age word a misspelt word beside a number stands for ("yaers", "twelwe", "whiksy"), or None;
        asked by the age detector only near numbers, so ordinary prompts do not pay for it."""
        if word in self._known:
            return None
        return self._age_fuzzy.lookup(word) or (self._age_fuzzy.lookup(squeeze(word)) if _TRIPLE.search(word) else None)

    def typo_guess(self, word: str) -> str | None:
        """What typo tolerance alone would make of a real word (a term, or a prefix term with its "*"), or
        None when the word is known, starts with a prefix term, or is near nothing.  For the benign sweep."""
        if word in self._known or word in self.terms.benign or self._prefix_extras(word):
            return None
        guess = self._best_guess((word,))
        if guess:
            return guess[1]
        extras = self._fuzzy_prefix((word,))
        return extras[0][0].term if extras else None

    # --- small lookups -------------------------------------------------------------------------------
    def entries_for(self, word: str) -> tuple[Entry, ...]:
        return self.terms.words.get(word, ()) or self.terms.prefixes.get(word, ())

    def _prefix_extras(self, form: str) -> list[tuple[Entry, str]]:
        if self._prefix_head is None or not self._prefix_head.match(form):
            return []  # most words start like no prefix term: one anchored regex instead of a dozen lookups
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

    def _unit(self, word: str, how: str, source: str, extras: list[tuple[Entry, str]] | None = None) -> Unit:
        """A unit for a known word (a term, an age word or both)."""
        cands = frozenset({word}) if word in self.terms.vocab else frozenset()
        return Unit(cands, tuple(extras or ()), how, source, word if word in self._ages else "")

    # --- resolving one token -------------------------------------------------------------------------
    def resolve(self, token: Token) -> tuple[Unit, ...]:
        key = (token.forms, token.spelled)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._resolve(token.forms, token.spelled)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.popitem(last=False)  # first in, first out (an OrderedDict: see normalize())
            self._cache[key] = cached
        return cached

    def _resolve(self, forms: tuple[str, ...], spelled: bool) -> tuple[Unit, ...]:
        # The most literal spelling that is a known word wins: "1boy" (a booru count tag) is not "boy".
        exact = next((f for f in forms if f in self._known), None)
        number = self._number_unit(forms)
        if number and exact is not None and len(exact) == 1:  # "80yyy" squeezes to "y": "boy" in leetspeak
            exact = next((f for f in forms if f in self._known and len(f) > 1), exact)
        if number and (exact is None or any(f.endswith(exact) and f[:-len(exact)].isdigit() for f in forms)):
            return number  # "11years" is 11 years, but "80y" in leetspeak is "boy"
        extras = [x for f in forms for x in self._prefix_extras(f)]
        if exact is not None and not (_TRIPLE.search(forms[-1]) and exact == squeeze(exact) != forms[0]):
            return (self._unit(exact, "exact", forms[-1], extras),)
        # Deliberate repeats compare squeezed on both sides, strong terms first ("tttteeeeeen" squeezes to
        # "ten", which is a number as well as "teen"), and before the benign list ("fffilllle": "file").
        repeated = self._repeats(forms, extras)
        if repeated:
            return repeated
        if exact is not None:
            return (self._unit(exact, "exact", forms[-1], extras),)
        if any(f in self.terms.benign for f in forms):
            return (Unit(frozenset(), (), "", forms[-1]),)
        stems = {s for f in forms for s in self._stems(f)}
        if stems:
            return (Unit(frozenset(stems), tuple(extras), "exact", forms[-1]),)
        found = self._wildcard(forms, extras)
        if found:
            return found
        for form in forms:
            pieces = self._compound(form)
            if pieces:
                head = Unit(frozenset({pieces[0]}), tuple(extras), "compound", form)
                return (head, *(Unit(frozenset({p}), (), "compound", form) for p in pieces[1:]))
        if spelled:  # two known words or more beat one misspelt word, which beats a cut into short words
            perfect = self._spelled(forms, perfect_only=True)
            if sum(len(u.source) >= 4 for u in perfect) < 2:
                perfect = self._whole_guess(forms, extras) or perfect
            cut = perfect or self._spelled(forms)
            if cut:
                return (Unit(cut[0].cands, tuple(extras) + cut[0].extras, cut[0].how, cut[0].source, cut[0].age),
                        *cut[1:])
        guess = self._best_guess(forms)
        if guess:  # a guessed word counts as the word would, prefix terms included ("dsenudo": "desnud*")
            return (self._unit(guess[1], "fuzzy", guess[0], extras + self._prefix_extras(guess[1])),)
        if not extras:
            extras = self._fuzzy_prefix(forms)
        if not extras and self._substring_re is not None:
            for form in dict.fromkeys((*forms, *(squeeze(f) for f in forms if _REPEAT.search(f)))):
                if not self._substring_re.search(form):
                    continue  # the common case: no distinctive term inside, no benign word to mask
                cleaned = self.benign_re.sub("|", form) if self.benign_re else form
                for m in self._substring_re.finditer(cleaned):
                    extras.extend((e, "substring") for e in self.entries_for(m.group()))
        return (Unit(frozenset(), tuple(extras), "", next((f for f in forms if _NUMBERISH.match(f)), forms[-1])),)

    def _fuzzy_prefix(self, forms: tuple[str, ...]) -> list[tuple[Entry, str]]:
        """A typo in the stem of a prefix term ("nakctes" for "nackt*", "pedofhile" for "pedophil*")."""
        for form in forms:
            if len(form) < _MIN_FUZZY_PREFIX - 1 or not form.isalpha():
                continue
            get = self._prefix_lengths.get
            lengths = sorted({*get(form[:2], ()), *get(form[0] + form[2], ())})
            if not lengths:
                continue
            for length in lengths:
                for k in (length, length - 1, length + 1):
                    if k > len(form) or k < _MIN_FUZZY_PREFIX - 1 or len(form) - k > _MAX_ENDING:
                        continue
                    guess = self._prefix_fuzzy.lookup(form[:k])
                    if guess and len(guess) == length:
                        return [(e, "fuzzy") for e in self.terms.prefixes[guess]]
        return []

    def _repeats(self, forms: tuple[str, ...], extras: list[tuple[Entry, str]]) -> tuple[Unit, ...]:
        """Deliberate repeats (three or more) are compared squeezed on both sides, so "ragaaaazzina" finds
        "ragazzina" and "déééshabillée" the prefix "déshabill"; a doubled letter alone only reaches an age
        word ("olld"), because "soon" is not "son"."""
        for form in forms:
            if not _REPEAT.search(form):
                continue
            short = squeeze(form)
            words = self._squeezed.get(short, frozenset())
            if not any(c * 3 in form for c in set(form)):
                words = frozenset(w for w in words if w in self._units)
            if words:
                word = min(words, key=lambda w: (w not in self.strong, w))
                return (self._unit(word, "repeat", form, extras),)
            if any(c * 3 in form for c in set(form)):
                top = min(len(short), self._longest_prefix)
                found = [(e, "prefix") for k in range(3, top + 1) for p in self._squeezed_prefixes.get(short[:k], ())
                         for e in self.terms.prefixes[p]]
                if found:
                    return (Unit(frozenset(), tuple(extras + found), "repeat", form),)
        return ()

    def _number_unit(self, forms: tuple[str, ...]) -> tuple[Unit, ...]:
        """"12yo", "12y34r5", "9yyyyo", "11 let": a number glued to an age unit is two words."""
        for form in forms:
            match = _NUMBER_UNIT.match(form)
            if match:
                number, rest = match.groups()
                units = self._resolve(token_forms(rest), False)
                if len(units) == 1 and units[0].age in self._units:
                    return (Unit(frozenset(), (), "number", number, number), units[0])
        return ()

    def _wildcard(self, forms: tuple[str, ...], extras: list[tuple[Entry, str]]) -> tuple[Unit, ...]:
        for form in forms:
            if "*" in form:  # censor star: "n*ked", "s*x"
                pattern = form.replace("*", "?")
                found = sorted((w for w in self._by_length.get(len(form), ()) if fnmatch.fnmatchcase(w, pattern)),
                               key=lambda w: (w not in self.strong, w))
                if found:
                    return (Unit(frozenset(found[:1]), tuple(extras), "wildcard", form),)
        return ()

    def _compound(self, form: str) -> list[str] | None:
        """Split a run-together word into vocabulary words (fewest pieces), e.g. ``sexykid``."""
        if len(form) < _MIN_COMPOUND or len(form) > 40 or form in self.terms.benign:
            return None
        if self._strong_re is None or not self._strong_re.search(form):
            return None  # a compound needs a strong piece: one regex scan spares the search for most words
        best: list[list[str] | None] = [[]] + [None] * len(form)
        for end in range(1, len(form) + 1):
            for start in range(max(0, end - 20), end):
                head = best[start]
                if head is None:
                    continue
                piece = form[start:end]
                if piece not in self._compound_vocab and piece.endswith("s") and len(piece) > 3:
                    piece = piece[:-1]
                if piece in self._compound_vocab:
                    candidate = [*head, piece]
                    current = best[end]
                    if current is None or len(candidate) < len(current):
                        best[end] = candidate
        pieces = best[-1]
        if not pieces or len(pieces) < 2 or not any(p in self.strong for p in pieces):
            return None
        return pieces

    def _best_guess(self, forms: tuple[str, ...]) -> tuple[str, str] | None:
        """(spelling, term) of the best typo guess over every spelling ("inño": "niño" before "nino")."""
        scored = [(found, form) for form in forms if (found := self._fuzzy.scored(form))]
        if not scored:
            return None
        (_, term), form = min(scored, key=lambda s: s[0][0])
        return form, term

    def _whole_guess(self, forms: tuple[str, ...], extras: list[tuple[Entry, str]]) -> tuple[Unit, ...]:
        """The spelt-out run as one misspelt word ("minderjhärige")."""
        guess = self._best_guess(forms)
        if guess:
            return (self._unit(guess[1], "fuzzy", guess[0], extras + self._prefix_extras(guess[1])),)
        stem = self._fuzzy_prefix(forms)
        return (Unit(frozenset(), tuple(extras + stem), "fuzzy", forms[-1]),) if stem else ()

    def _spelled(self, forms: tuple[str, ...], perfect_only: bool = False) -> tuple[Unit, ...]:
        """Cut letters spelt out without word gaps ("nudechild", "sexyanimekid", "nude12yearold") into known
        words and numbers, skipping as few unknown letters as possible; a misspelt word counts as one
        skipped letter when that does better.  Nothing unless at least half the letters are known."""
        best_cut: tuple[int, list[str]] | None = None
        for typos in (False, True):
            for form in forms[:6]:
                cut = self._cut(form, typos)
                if cut and (best_cut is None or cut[0] < best_cut[0]):
                    best_cut = cut
            if perfect_only or (best_cut is not None and best_cut[0] == 0):
                break
        if best_cut is None or (perfect_only and best_cut[0]):
            return ()
        return tuple(self._unit(p, "spelled", p, self._prefix_extras(p)) if not p.isdigit()
                     else Unit(frozenset(), (), "spelled", p, p) for p in best_cut[1])

    def _piece(self, piece: str, typos: bool) -> str | None:
        """The known word ``piece`` is (or, with ``typos``, is a misspelling of), else None."""
        if piece in self._spelled_vocab:
            return piece
        if typos and _MIN_TYPO_PIECE <= len(piece) <= _MAX_TYPO_PIECE:
            return self._fuzzy.lookup(piece) or self._age_fuzzy.lookup(piece)
        return None

    def _cut(self, form: str, typos: bool) -> tuple[int, list[str]] | None:
        n = len(form)
        if n > (_MAX_TYPO_CUT if typos else 60):
            return None
        # best[i] = (cost, pieces, words) for form[:i]; a skipped letter or a misspelt word costs 1
        best: list[tuple[int, int, list[str]] | None] = [(0, 0, [])] + [None] * n
        for end in range(1, n + 1):
            options: list[tuple[int, int, list[str]]] = []
            prev = best[end - 1]
            if prev is not None:
                options.append((prev[0] + 1, prev[1], prev[2]))
            for start in range(max(0, end - _SPELLED_WINDOW), end):
                head = best[start]
                if head is None:
                    continue
                piece = form[start:end]
                if piece.isdigit():
                    if (start and form[start - 1].isdigit()) or (end < n and form[end].isdigit()):
                        continue  # whole numbers only
                    options.append((head[0], head[1] + 1, [*head[2], piece]))
                    continue
                word = self._piece(piece, typos)
                if word is not None:
                    options.append((head[0] + (word != piece), head[1] + 1, [*head[2], word]))
            best[end] = min(options, key=lambda o: (o[0], o[1])) if options else None
        final = best[n]
        covered = sum(len(w) for w in final[2] if len(w) >= 3 or w.isdigit()) if final else 0
        if final is None or covered < _SPELLED_COVER * n:
            return None  # one- and two-letter words are free to cut off but cover nothing ("s kid row")
        words = [w for w in final[2] if w.isdigit() or w in self._known or w in self.terms.prefixes]
        return (final[0], words) if words else None
