"""Turn an obfuscated prompt into views that plain term lookups can match.

Abusers spell words so that a regex misses them: fullwidth or mathematical letters, Cyrillic look-alikes,
zero-width joiners, accents, leetspeak, ``n.a.k.e.d``, ``naaaked``, ``(word:1.3)``, emoji.  Rather than
teaching every matcher about every trick, this module undoes the tricks once and hands out:

* ``Token`` objects: one per word-like run, each with every plausible spelling (``forms``) and the index of
  the whitespace-separated word of the original prompt it came from (so a rewrite can cut it out);
* a de-spaced letter stream (``NormalizedText.stream``) for words split in odd places;
* a CJK stream (``NormalizedText.cjk``) because Japanese and Chinese have no spaces;
* the folded text itself (``NormalizedText.text``) for the numeric-age patterns.

Everything here is pure; the per-character table fills lazily, so importing does no work.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import groupby, pairwise
from typing import NamedTuple

from horde_core.safety.prompt_filter import _tables as tb

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
    if ch in tb.KEEP_ACCENTED or (0x0400 <= code <= 0x04FF and ch not in "ёЁ") or code >= 0x3000:
        return ch  # ñ is a different letter; Cyrillic is transliterated per token; CJK keeps dakuten
    decomposed = unicodedata.normalize("NFD", ch)
    if len(decomposed) > 1:
        return "".join(_fold_char(c) for c in decomposed)
    return ch


_FOLD = _FoldTable()
_WEIGHT_NUMBER = re.compile(r"(?<=[^\W\d_)\]}])\s*:\s*[-+]?\d*\.?\d+")
_PROMPT_SYNTAX = re.compile(r"[()\[\]{}<>\"'`~^=;,/\\#%&?]+")
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]+|(?:(?![{_CJK}])[^\W_]|[@$!|*€£¥])+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN_OR_DIGIT = re.compile(r"[a-z0-9]", re.IGNORECASE)
_LEET_CHARS = re.compile(r"[0-9@$!|€£¥]")
_REPEAT3 = re.compile(r"([^\W\d_])\1{2,}")
_REPEAT2 = re.compile(r"([^\W\d_])\1+")
_MULTI_LEET = re.compile("|".join(re.escape(k) for k in sorted(tb.MULTI_CHAR_LEET, key=len, reverse=True)))
_TAG_BREAK = re.compile(r"[,;\u3001]")  # after NFKC: comma, semicolon, ideographic comma
_LEADING_DIGITS = re.compile(r"^\d+(?=[a-z]{3,}$)")


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
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


def squeeze(word: str) -> str:
    """Collapse every run of a repeated letter to one letter (``naaakkked`` -> ``naked``)."""
    return _REPEAT2.sub(r"\1", word)


def _strip_weights(word: str) -> str:
    """Remove prompt-weight syntax: ``(word:1.3)``, ``((word))``, ``[word]``, ``{word}``, ``<lora:x:0.8>``."""
    return _PROMPT_SYNTAX.sub(" ", _WEIGHT_NUMBER.sub(" ", word))


def _leet_variants(word: str) -> list[str]:
    """Decode leetspeak; ``1`` and ``6`` are ambiguous, so two readings come back."""
    first = word.translate(tb.LEET_A)
    second = word.translate(tb.LEET_B)
    return [first] if first == second else [first, second]


def _script_forms(raw: str) -> list[str]:
    """Base spellings for one token: mixed-script tokens are look-alike tricks, pure Cyrillic is Russian."""
    if not _CYRILLIC.search(raw):
        return [raw.casefold()]
    homoglyph = raw.translate(tb.CYRILLIC_HOMOGLYPHS).casefold()
    if _LATIN_OR_DIGIT.search(raw):
        return [homoglyph]
    translit = raw.casefold().translate(tb.CYRILLIC_TRANSLIT)
    return [translit, homoglyph] if homoglyph.isascii() else [translit]


def token_forms(raw: str) -> tuple[str, ...]:
    """Every plausible spelling of one non-CJK token: the literal one and its readings in order, then the
    display form (leetspeak decoded, repeats kept) last, which the letter stream uses."""
    forms: list[str] = []
    for base in _script_forms(raw):
        forms.append(base)
        decoded = [base]
        if _LEET_CHARS.search(base) and not base.isdigit() and any(c.isalpha() for c in base):
            decoded = _leet_variants(base)
            forms.extend(decoded)
            if "|" in base:  # "n|u|d|e" uses the bar as a separator, "|o|i" as a letter
                forms.append(base.replace("|", ""))
            stripped = _LEADING_DIGITS.sub("", base)  # booru counts: "1girl", "2girls"
            if stripped != base:
                forms.append(stripped)
        for word in decoded:
            if "*" in word:  # "n*a*k*e*d" is a separator; "n*ked" is a censor star (matched as wildcard)
                forms.append(word.replace("*", ""))
            if "ñ" in word:  # "ñaked": the tilde is decoration unless a Spanish term says otherwise
                forms.append(word.replace("ñ", "n"))
            if _REPEAT3.search(word):  # only a run of 3+ is deliberate; "soon" must not become "son"
                forms.append(_REPEAT3.sub(r"\1\1", word))
                forms.append(squeeze(word))
        forms.append(decoded[0].replace("*", ""))
    display = forms[-1] if len(forms) > 1 else forms[0]
    unique = [f for f in dict.fromkeys(forms) if f and f != display]
    return (*unique, display) if display else tuple(unique)


def _clean_raw(raw: str) -> str:
    """Trim punctuation that leetspeak never uses at a word's end (``kids!``, ``*word*``)."""
    raw = raw.strip("*")
    return raw.rstrip("!")


def _word_tokens(word: str, index: int) -> list[Token]:
    """Tokens of one whitespace-separated word of the prompt."""
    tokens: list[Token] = []
    folded = fold_text(word)
    if _MULTI_LEET.search(folded):
        folded = _MULTI_LEET.sub(lambda m: tb.MULTI_CHAR_LEET[m.group()], folded)
    for number, segment in enumerate(_TAG_BREAK.split(folded)):
        gap = number > 0  # the first token after a comma starts a new tag
        for part in _strip_weights(segment).split():
            for match in _TOKEN.finditer(part):
                raw = match.group()
                if _CJK_CHAR.match(raw):
                    tokens.append(Token((raw,), index, index, cjk=True, raw=raw, gap=gap))
                    gap = False
                    continue
                raw = _clean_raw(raw)
                if raw and any(c.isalnum() for c in raw):
                    tokens.append(Token(token_forms(raw), index, index, raw=raw, gap=gap))
                    gap = False
    return tokens


def _join_letter_runs(tokens: list[Token]) -> list[Token]:
    """Rejoin words spelt one letter at a time: ``n.a.k.e.d`` / ``n-a-k-e-d`` (within one word, 2+ letters)
    and ``n a k e d`` (single-letter words, 3+ in a row).  Word by word first, so ``l.i.t.t.l.e g.i.r.l``
    becomes two words and not ``littlegirl``."""

    def single(t: Token) -> bool:
        return not t.cjk and len(t.raw) == 1

    def join(run: list[Token]) -> Token:
        raw = "".join(t.raw for t in run)
        return Token(token_forms(raw), run[0].first, run[-1].last, raw=raw, gap=run[0].gap)

    within: list[Token] = []
    for (_, is_single), group in groupby(tokens, key=lambda t: (t.first, single(t))):
        run = list(group)
        within.extend([join(run)] if is_single and len(run) >= 2 and len({t.first for t in run}) == 1 else run)
    out: list[Token] = []
    for is_single, group in groupby(within, key=single):
        run = list(group)
        out.extend([join(run)] if is_single and len(run) >= 3 else run)
    return out


def split_words(text: str) -> list[str]:
    """Whitespace-separated words of the original prompt (the unit a rewrite removes)."""
    return text.split()


def normalize(text: str, word_cache: dict[str, tuple[tuple[Token, ...], str]] | None = None) -> NormalizedText:
    """Build every view of ``text``; ``word_cache`` (raw word -> tokens, folded word) lets a caller reuse work."""
    words = split_words(text)
    tokens: list[Token] = []
    folded: list[str] = []
    for index, word in enumerate(words):
        cached = word_cache.get(word) if word_cache is not None else None
        if cached is None:
            cached = (tuple(_word_tokens(word, 0)), fold_text(word).replace(" ", ","))
            if word_cache is not None:
                if len(word_cache) > 20000:
                    word_cache.clear()
                word_cache[word] = cached
        word_tokens, folded_word = cached
        for k, t in enumerate(word_tokens):
            gap = t.gap or (k == 0 and bool(folded) and folded[-1].endswith((",", ";")))
            tokens.append(t if index == 0 else Token(t.forms, index, index, t.cjk, t.raw, gap))
        folded.append(folded_word)
    singles = [len(t.raw) == 1 for t in tokens]
    if any(a and b for a, b in pairwise(singles)):
        tokens = _join_letter_runs(tokens)
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
