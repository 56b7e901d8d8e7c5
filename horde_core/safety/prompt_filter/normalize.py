"""Turn an obfuscated prompt into views that plain term lookups can match.

Abusers spell words so that a regex misses them: fullwidth or mathematical letters, Cyrillic look-alikes,
zero-width joiners, accents, leetspeak, ``n.a.k.e.d``, ``naaaked``, ``(word:1.3)``, emoji.  Rather than
teaching every matcher about every trick, this module undoes the tricks once and hands out:

* ``Token`` objects: one per word-like run, each with every plausible spelling (``forms``) and the index of
  the whitespace-separated word of the original prompt it came from (so a rewrite can cut it out);
* a de-spaced letter stream (``NormalizedText.stream``) for words split in odd places;
* a CJK stream (``NormalizedText.cjk``) because Japanese and Chinese have no spaces;
* the folded text itself (``NormalizedText.text``) for the numeric-age patterns.

Tricks compose (``n.4.k.3.d``, ``3|r|0|t|!|$|c|h``, a Russian word with a Latin o and accents), so every step runs
to a fixed point: folding repeats until the text stops changing, and a token's spellings are closed under
every decoding (leetspeak with each ambiguous digit read both ways, separators dropped, repeats
squeezed) until no new spelling appears.  Runs of single letters (``n u d e``) are joined by ``spelled.py``.

Everything here is pure; the per-character table fills lazily, so importing does no work.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from itertools import pairwise, product
from typing import NamedTuple

from horde_core.safety.prompt_filter import _tables as tb
from horde_core.safety.prompt_filter.spelled import join_letter_runs, wide_gaps

__all__ = ["NormalizedText", "Token", "fold_text", "normalize", "squeeze", "term_key"]


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table that computes each code point's folding the first time it is seen.

    Precomputing all of Unicode would cost time at import; a lazy table costs one dict lookup per
    character after warm-up and keeps the module free of import-time work.
    """

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


def _fold_char(ch: str) -> str:
    """Fold one character: drop invisibles and marks, map look-alikes and emoji, strip accents."""
    code = ord(ch)
    if ch in tb.CHAR_MAP:
        return tb.CHAR_MAP[ch]
    if ch in tb.EMOJI_WORDS:
        return f" {tb.EMOJI_WORDS[ch]} "
    for base in (0x1F130, 0x1F150, 0x1F170):  # squared / negative circled / negative squared capitals
        if base <= code < base + 26:
            return chr(ord("a") + code - base)
    if 0x1F1E6 <= code <= 0x1F1FF:  # regional indicator symbols: 🇳🇦🇰🇪🇩 spells a word
        return chr(ord("a") + code - 0x1F1E6)
    category = unicodedata.category(ch)
    if category in ("Mn", "Me") and code not in (0x3099, 0x309A):
        return ""  # combining marks: accents, strike-through, "zalgo" text
    if category in ("Cf", "Cc", "Sk", "Co", "Cs") or tb.is_invisible(code):
        return " " if ch in "\t\n\r\v\f" else ""
    if category.startswith("Z"):
        return " "
    compat = unicodedata.normalize("NFKC", ch)
    if compat != ch:
        return "".join(_fold_char(c) for c in compat)
    if 0x0400 <= code <= 0x04FF and ch not in "ёЁйЙ":
        base = unicodedata.normalize("NFD", ch)[0]  # "ӓ", "ќ": accents on Cyrillic are decoration too
        return base if base != ch and 0x0400 <= ord(base) <= 0x04FF else ch  # transliterated per token
    if ch in tb.KEEP_ACCENTED or code >= 0x3000:
        return ch  # ñ is a different letter; CJK keeps dakuten
    decomposed = unicodedata.normalize("NFD", ch)
    if len(decomposed) > 1:
        return "".join(_fold_char(c) for c in decomposed)
    return ch


_FOLD = _FoldTable()
_FOLD_ROUNDS = 3
_WORD_CACHE_LIMIT = 20000
_MAX_FORMS = 24
_WEIGHT_NUMBER = re.compile(r"(?<=[^\W\d_)\]}])\s*:\s*[-+]?\d*\.?\d+|:\s*[-+]?\d*\.?\d+(?=\s*[)\]}>])")
_PROMPT_SYNTAX = re.compile(r"[()\[\]{}<>\"'`~^=;,/\\#%&?]+")
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]+|(?:(?![{_CJK}])[^\W_]|[@$!|*€£¥])+")
_DECIMAL = re.compile(r"\W*(\d+(?:[.,]\d+)+)([^\W\d_]*)\W*")  # "11.5mm", "2.5" (not "s.h.0.7.@")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN_OR_DIGIT = re.compile(r"[a-z0-9]", re.IGNORECASE)
_LEET_CHARS = re.compile(r"[0-9@$!|€£¥]")
_REPEAT3 = re.compile(r"([^\W\d_])\1{2,}")
_REPEAT2 = re.compile(r"([^\W\d_])\1+")
_MULTI_LEET = re.compile("|".join(re.escape(k) for k in sorted(tb.MULTI_CHAR_LEET, key=len, reverse=True)))
_TAG_BREAK = re.compile(r"[,;\u3001]")  # after NFKC: comma, semicolon, ideographic comma
_LEADING_DIGITS = re.compile(r"^\d+(?=[a-z]{3,}$)")
_DIGIT_LEET = re.compile(r"[^\W\d_][0-9@$]|[0-9@$][^\W\d_]")  # a digit or symbol touching a letter
_LONE_LEET = frozenset("@$!|€£¥")  # a letter only when it sits in a run of single letters ("k . ! . d")


class Token(NamedTuple):
    """One word-like run of the prompt.

    ``forms`` holds every plausible spelling, the most literal first: matchers accept a token when any
    form is a known term, so ambiguous leetspeak (``1`` as ``i`` or ``l``) costs a lookup, not a guess.
    ``first``/``last`` are the indices of the original whitespace-separated words the token spans.
    ``gap`` marks a tag boundary before the token, which phrases do not cross.
    (A named tuple rather than a dataclass: a prompt makes dozens of these, and tuples are cheap.)
    """

    forms: tuple[str, ...]
    first: int
    last: int
    cjk: bool = False
    raw: str = ""
    gap: bool = False  # a comma or semicolon precedes it: tags in a list are separate phrases
    spelled: bool = False  # joined from single letters ("n u d e"): word boundaries inside are unknown

    @property
    def text(self) -> str:
        """The most decoded spelling (used for the letter stream and for display)."""
        return self.forms[-1] if not self.cjk else self.forms[0]


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """The views of one prompt: tokens, de-spaced letter stream, CJK stream and folded text."""

    tokens: tuple[Token, ...]
    stream: str
    cjk: str
    text: str
    words: tuple[str, ...]


def fold_text(text: str) -> str:
    """NFKC plus look-alike/invisible/accent/emoji folding, case preserved (Cyrillic case matters)."""
    if text.isascii():
        return text
    for _ in range(_FOLD_ROUNDS):  # until nothing changes: a folded character can unlock another
        folded = unicodedata.normalize("NFKC", text).translate(_FOLD)
        if folded == text:
            break
        text = folded
    return text


def squeeze(word: str) -> str:
    """Collapse every run of a repeated letter to one letter (``naaakkked`` -> ``naked``)."""
    return _REPEAT2.sub(r"\1", word)


def _strip_weights(word: str) -> str:
    """Remove prompt-weight syntax: ``(word:1.3)``, ``((word))``, ``[word]``, ``{word}``, ``<lora:x:0.8>``."""
    return _PROMPT_SYNTAX.sub(" ", _WEIGHT_NUMBER.sub(" ", word))


def _leet_variants(word: str) -> list[str]:
    """Decode leetspeak.  ``1`` (i or l) and ``6`` (g or b) are ambiguous: with up to three of them every
    combination comes back ("K13!nk1nd" needs both readings of 1), beyond that the two uniform readings."""
    ambiguous = [i for i, c in enumerate(word) if c in tb.LEET_AMBIGUOUS]
    if not ambiguous:
        return [word.translate(tb.LEET_A)]
    if len(ambiguous) > 3:
        return list(dict.fromkeys((word.translate(tb.LEET_A), word.translate(tb.LEET_B))))
    sure = list(word.translate(tb.LEET_SURE))
    out = []
    for choice in product(*(tb.LEET_AMBIGUOUS[word[i]] for i in ambiguous)):
        for i, letter in zip(ambiguous, choice, strict=True):
            sure[i] = letter
        out.append("".join(sure))
    return out


def _translit(cyrillic: str) -> list[str]:
    """Russian in Latin letters, also with repeats reduced first ("ччч" would become "chchch")."""
    lowered = cyrillic.casefold()
    out = [lowered.translate(tb.CYRILLIC_TRANSLIT)]
    if _REPEAT3.search(lowered):
        out += [w.translate(tb.CYRILLIC_TRANSLIT) for w in (_REPEAT3.sub(r"\1\1", lowered), squeeze(lowered))]
    return out


def _script_forms(raw: str) -> list[str]:
    """Base spellings for one token: mixed-script tokens are look-alike tricks (a Latin word with Cyrillic
    letters, or a Russian word with Latin ones: both readings), pure Cyrillic is Russian."""
    if not _CYRILLIC.search(raw):
        return [raw.casefold()]
    homoglyph = raw.translate(tb.CYRILLIC_HOMOGLYPHS).casefold()
    if _LATIN_OR_DIGIT.search(raw):
        return [homoglyph, *_translit(raw.casefold().translate(tb.LATIN_AS_CYRILLIC))]
    translit = _translit(raw)  # the Cyrillic spelling comes last, for typo tolerance in Russian
    return [*translit, homoglyph, raw.casefold()] if homoglyph.isascii() else [*translit, raw.casefold()]


def _leetable(word: str) -> bool:
    """Leetspeak needs a letter or a symbol beside the digits: "n4k3d", "@93", "101!"; "1011" is a number."""
    return not word.isdigit() and any(c.isalpha() or c in "@$!€£¥" for c in word)  # "1|2" is twelve


def _decodings(word: str, literal: bool) -> list[str]:
    """Each trick undone once: leetspeak, separators, decoration, repeats (booru counts on the literal)."""
    out: list[str] = []
    if _LEET_CHARS.search(word) and _leetable(word):
        out += _leet_variants(word)
        if literal:
            stripped = _LEADING_DIGITS.sub("", word)  # booru counts: "1girl", "2girls"
            if stripped != word:
                out.append(stripped)
    if "|" in word:  # "n|u|d|e" uses the bar as a separator, "|o|i" as a letter
        out.append(word.replace("|", ""))
    if "*" in word:  # "n*a*k*e*d" is a separator; "n*ked" is a censor star (matched as wildcard)
        out.append(word.replace("*", ""))
    if "ñ" in word:  # "ñaked": the tilde is decoration unless a Spanish term says otherwise
        out.append(word.replace("ñ", "n"))
    if _REPEAT3.search(word):  # only a run of 3+ is deliberate; "soon" must not become "son"
        out += [_REPEAT3.sub(r"\1\1", word), squeeze(word)]
    return out


def _display(base: str) -> str:
    """The most decoded spelling in one reading (leetspeak with 1 as i, no stars): the letter stream's."""
    if _LEET_CHARS.search(base) and _leetable(base):
        base = base.translate(tb.LEET_A)
    return base.replace("*", "")


def token_forms(raw: str) -> tuple[str, ...]:
    """Every plausible spelling of one non-CJK token, closed under every decoding (so tricks compose), the
    most literal first and the display form (leetspeak decoded, repeats kept) last."""
    bases = _script_forms(raw)
    if len(bases) == 1 and bases[0].isascii() and bases[0].isalpha() and not _REPEAT3.search(bases[0]):
        return (bases[0],)  # the common case: a plain word
    forms: dict[str, None] = dict.fromkeys(bases)
    frontier = list(bases)
    literal = True
    while frontier and len(forms) < _MAX_FORMS:
        found = [d for w in frontier for d in _decodings(w, literal) if d and d not in forms]
        frontier = list(dict.fromkeys(found))[:_MAX_FORMS - len(forms)]
        forms.update(dict.fromkeys(frontier))
        literal = False
    display = _display(bases[0])
    unique = [f for f in forms if f and f != display]
    return (*unique, display) if display else tuple(unique)


def _clean_raw(raw: str) -> str:
    """Trim punctuation that leetspeak never uses at a word's end (``kids!``, ``*word*``); a word already
    in leetspeak keeps its "!" (``l0l!``, ``h3nt@!``)."""
    if raw in _LONE_LEET:
        return raw
    raw = raw.strip("*")
    return raw if _DIGIT_LEET.search(raw.rstrip("!")) else raw.rstrip("!")


def _word_tokens(word: str, index: int) -> list[Token]:
    """Tokens of one whitespace-separated word of the prompt (a decimal number is one token)."""
    plain = word.rstrip(",;.")
    if plain.isascii() and plain.isalpha():  # most words of most prompts: nothing to undo
        return [Token(token_forms(plain), index, index, raw=plain)]
    tokens: list[Token] = []
    folded = fold_text(word)
    if _MULTI_LEET.search(folded):
        folded = _MULTI_LEET.sub(lambda m: tb.MULTI_CHAR_LEET[m.group()], folded)
    for number, segment in enumerate(_TAG_BREAK.split(folded)):
        gap = number > 0  # the first token after a comma starts a new tag
        for part in _strip_weights(segment).split():
            decimal = _DECIMAL.fullmatch(part)
            if decimal:
                tokens.append(Token((decimal.group(1),), index, index, raw=decimal.group(1), gap=gap))
                gap = False
                part = decimal.group(2)
            for match in _TOKEN.finditer(part):
                raw = match.group()
                if _CJK_CHAR.match(raw):
                    tokens.append(Token((raw,), index, index, cjk=True, raw=raw, gap=gap))
                    gap = False
                    continue
                raw = _clean_raw(raw)
                if raw and (any(c.isalnum() for c in raw) or raw in _LONE_LEET):
                    tokens.append(Token(token_forms(raw), index, index, raw=raw, gap=gap))
                    gap = False
    return tokens


def split_words(text: str) -> list[str]:
    """Whitespace-separated words of the original prompt (the unit a rewrite removes)."""
    return text.split()


def normalize(text: str, word_cache: OrderedDict[str, tuple[tuple[Token, ...], str, bool]] | None = None
              ) -> NormalizedText:
    """Build every view of ``text``; ``word_cache`` (raw word -> tokens, folded word, ends a tag) lets a caller
    reuse work."""
    words = split_words(text)
    tokens: list[Token] = []
    folded: list[str] = []
    tag_ended = False
    for index, word in enumerate(words):
        cached = word_cache.get(word) if word_cache is not None else None
        if cached is None:
            fold = fold_text(word)
            cached = (tuple(_word_tokens(word, 0)), fold.replace(" ", ","), fold.rstrip().endswith((",", ";")))
            if word_cache is not None:
                if len(word_cache) >= _WORD_CACHE_LIMIT:
                    # The oldest word: no pause to clear thousands. An OrderedDict, because removing a plain dict's
                    # first key again and again makes finding the next first key scan every removed slot.
                    word_cache.popitem(last=False)
                word_cache[word] = cached
        word_tokens, folded_word, ends_tag = cached
        for k, t in enumerate(word_tokens):
            gap = t.gap or (k == 0 and tag_ended)
            tokens.append(t if index == 0 else Token(t.forms, index, index, t.cjk, t.raw, gap))
        if word_tokens or ends_tag:
            tag_ended = ends_tag
        folded.append(folded_word)
    singles = [len(t.raw) == 1 for t in tokens]
    if any(a and b for a, b in pairwise(singles)):
        tokens = join_letter_runs(tokens, wide_gaps(text) if len(words) > 1 else frozenset(), token_forms)
    if any(t.raw in _LONE_LEET for t in tokens):
        tokens = [t for t in tokens if t.raw not in _LONE_LEET]  # a lone "@" or "|" was punctuation after all
    stream = "".join(t.text for t in tokens if not t.cjk)
    cjk = "".join(t.forms[0] for t in tokens if t.cjk)
    # One space per original word boundary, so a character offset maps back to a word index.
    return NormalizedText(tuple(tokens), stream, cjk, " ".join(folded).casefold(), tuple(words))


def term_key(term: str) -> tuple[tuple[str, ...], bool]:
    """Normalise a term from the term list the way prompts are normalised.

    Returns the word sequence (its most literal form per token, no leetspeak guessing) and whether the
    term is CJK (matched in the CJK stream rather than word by word).
    """
    folded = _strip_weights(fold_text(term.replace("-", " ").replace("_", " ")))
    cjk = bool(_CJK_CHAR.search(folded))
    if cjk:
        return (re.sub(rf"[^{_CJK}]", "", folded),), True
    words: list[str] = []
    for match in _TOKEN.finditer(folded):
        raw = match.group()
        words.append(_script_forms(raw)[0])
    return tuple(words), False
