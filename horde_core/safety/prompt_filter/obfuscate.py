"""Obfuscation families for the robustness evaluation: generic text changes an attacker stacks on a prompt.

Each family rewrites one word the way a person dodging a word list would, in a form a diffusion model still
reads through: leetspeak, separators (``n.a.k.e.d``), spacing (``n a k e d``), look-alike letters and digits,
zero-width characters, accents, repeated letters, typos, prompt weights (``(word:1.2)``) and the ``[a|b]``
alternation syntax.  ``obfuscate`` applies one family or several, in a fixed order (letters first, then
invisible characters, then the structure around the word), to every content word of a prompt and of its
negative.  All randomness comes from the ``random.Random`` handed in, so a seed reproduces a table.

Typos follow what typo tolerance can promise without crying wolf: words of four letters or more only, a
four-letter word only gets a doubled or swapped letter, and the first letter is never dropped or replaced.
"""

# ruff: noqa: RUF001  (look-alike characters are the point of this module)

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Sequence

__all__ = ["FAMILIES", "content_word", "obfuscate"]

_STOPWORDS = frozenset((
    "a", "an", "the", "of", "on", "in", "at", "to", "and", "or", "with", "her", "his", "its", "my", "by", "for",
    "is", "de", "la", "el", "en", "y", "o", "un", "una", "los", "las", "del", "le", "les", "des", "du", "et",
    "sur", "au", "une", "der", "die", "das", "im", "am", "mit", "und", "ein", "eine", "na", "no", "da", "do",
    "e", "um", "uma", "il", "lo", "di", "che", "sul", "nella", "в", "на", "и", "с"))
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_CORE = re.compile(r"^([\W_]*)(.*?)([\W_]*)$", re.DOTALL)

_LEET = {"a": "4@", "e": "3", "i": "1!", "o": "0", "s": "5$", "t": "7", "l": "1", "g": "9", "b": "8", "z": "2"}
_SEPARATORS = (".", "-", "_", "*", "·", "/", "+", "|", "~")
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")
_MARKS = ("\u0301", "\u0300", "\u0308", "\u0302", "\u0303", "\u0304", "\u0327", "\u030c")
_CYRILLIC_FOR_LATIN = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і", "s": "ѕ",
                       "j": "ј", "h": "һ", "k": "к", "A": "А", "B": "В", "E": "Е", "K": "К", "M": "М", "H": "Н",
                       "O": "О", "P": "Р", "C": "С", "T": "Т", "X": "Х"}
_LATIN_FOR_CYRILLIC = {"а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "к": "k"}
_GREEK_FOR_LATIN = {"a": "α", "o": "ο", "v": "ν", "p": "ρ", "i": "ι", "k": "κ", "u": "υ", "n": "η", "t": "τ",
                    "A": "Α", "B": "Β", "E": "Ε", "H": "Η", "I": "Ι", "K": "Κ", "M": "Μ", "N": "Ν", "O": "Ο"}
_SMALL_CAPS = dict(zip("abcdefghijklmnopqrstuvwyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ", strict=True))
_KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "йцукенгшщзх", "фывапролджэ", "ячсмитьбю")


def _neighbours(ch: str) -> str:
    """Keys beside ``ch`` on a QWERTY or ЙЦУКЕН keyboard (a plausible slip of the finger)."""
    for row in _KEYBOARD:
        k = row.find(ch)
        if k >= 0:
            return row[max(0, k - 1):k] + row[k + 1:k + 2]
    return ""


def _is_cjk(word: str) -> bool:
    return bool(_CJK.search(word))


def content_word(core: str) -> bool:
    """Words worth disguising: two letters or digits or more, not a function word ("on", "de", "и")."""
    return sum(c.isalnum() for c in core) >= 2 and core.casefold() not in _STOPWORDS


def _some(rng: random.Random, positions: Sequence[int], share: float) -> list[int]:
    """A random share of ``positions``, never none of them."""
    chosen = [p for p in positions if rng.random() < share]
    return chosen or ([rng.choice(positions)] if positions else [])


def leetspeak(word: str, rng: random.Random) -> str:
    if _is_cjk(word):
        return word
    spots = [i for i, c in enumerate(word) if c.lower() in _LEET]
    out = list(word)
    for i in _some(rng, spots, 0.6):
        out[i] = rng.choice(_LEET[word[i].lower()])
    return "".join(out)


def separators(word: str, rng: random.Random, bar: bool = True) -> str:
    options = _SEPARATORS[1:] if word.isdigit() else _SEPARATORS  # "1.2" would read as a decimal
    if not bar:  # inside "[a|b]" a bar starts another option: "[n|u|d|e|cat]" is five options, not "nude"
        options = tuple(o for o in options if o != "|")
    return rng.choice(options).join(_graphemes(word))


def _graphemes(word: str) -> list[str]:
    """Letters with their combining marks: a separator never lands between a letter and its accent."""
    out: list[str] = []
    for ch in word:
        if out and unicodedata.combining(ch):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def spacing(word: str, rng: random.Random) -> str:
    spaced = " ".join(_graphemes(word))
    return f" {spaced} " if rng.random() < 0.5 else spaced  # wider gaps between words, or none


def homoglyphs(word: str, rng: random.Random) -> str:
    if _is_cjk(word):
        return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in word)
    if any("\u0400" <= c <= "\u04ff" for c in word):  # Russian: Latin look-alikes inside a Cyrillic word
        spots = [i for i, c in enumerate(word) if c in _LATIN_FOR_CYRILLIC]
        out = list(word)
        for i in _some(rng, spots, 0.6):
            out[i] = _LATIN_FOR_CYRILLIC[word[i]]
        return "".join(out)
    style = rng.choice(("cyrillic", "greek", "fullwidth", "bold", "circled", "smallcaps"))
    if style in ("cyrillic", "greek"):
        table = _CYRILLIC_FOR_LATIN if style == "cyrillic" else _GREEK_FOR_LATIN
        spots = [i for i, c in enumerate(word) if c in table]
        out = list(word)
        for i in _some(rng, spots, 0.6):
            out[i] = table[word[i]]
        return "".join(out)
    return "".join(_styled(c, style) for c in word)


def _styled(ch: str, style: str) -> str:
    if not ch.isascii() or not ch.isalnum():
        return ch
    low = ch.lower()
    if style == "fullwidth":
        return chr(ord(ch) + 0xFEE0)
    if style == "bold":
        return chr(0x1D7CE + int(ch)) if ch.isdigit() else chr(0x1D41A + ord(low) - ord("a"))
    if style == "circled":
        if ch.isdigit():
            return "⓪" if ch == "0" else chr(0x2460 + int(ch) - 1)
        return chr(0x24D0 + ord(low) - ord("a"))
    return _SMALL_CAPS.get(low, ch)


def zero_width(word: str, rng: random.Random) -> str:
    letters = _graphemes(word)
    chosen = set(_some(rng, list(range(1, len(letters))), 0.5))
    return "".join((rng.choice(_ZERO_WIDTH) if i in chosen else "") + c for i, c in enumerate(letters))


def accents(word: str, rng: random.Random) -> str:
    if _is_cjk(word):
        return word
    spots = [i for i, c in enumerate(word) if c.isalpha()]
    chosen = set(_some(rng, spots, 0.5))
    out = "".join(c + (rng.choice(_MARKS) if i in chosen else "") for i, c in enumerate(word))
    return unicodedata.normalize("NFC", out)


def repeats(word: str, rng: random.Random) -> str:
    if _is_cjk(word):
        return word
    spots = [i for i, c in enumerate(word) if c.isalpha()]
    if not spots:
        return word
    chosen = set(rng.sample(spots, min(len(spots), rng.choice((1, 2)))))
    return "".join(c * (rng.randint(3, 5) if i in chosen else 1) for i, c in enumerate(word))


def typos(word: str, rng: random.Random) -> str:
    if _is_cjk(word) or not word.isalpha() or len(word) < 4:
        return word
    ops = ["double", "swap"] + (["drop", "substitute"] if len(word) >= 5 else [])
    op = rng.choice(ops)
    if op == "double":
        i = rng.randrange(len(word))
        return word[:i + 1] + word[i] + word[i + 1:]
    if op == "swap":
        i = rng.randrange(len(word) - 1)
        if word[i] == word[i + 1]:
            return word[:i + 1] + word[i] + word[i + 1:]
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    i = rng.randrange(1, len(word))
    if op == "drop":
        return word[:i] + word[i + 1:]
    near = _neighbours(word[i].lower())
    return word[:i] + rng.choice(near) + word[i + 1:] if near else word[:i] + word[i + 1:]


def weights(word: str, rng: random.Random) -> str:
    form = rng.choice(("({}:1.2)", "(({}))", "[{}]", "{{{}}}", "({}:0.9)", "((({})))", "({}:1.35)"))
    return form.format(word)


def alternation(word: str, rng: random.Random) -> str:
    style = rng.choice(("whole", "split", "other"))
    if style == "whole" or len(word) < 3:
        return f"[{word}|{word}]"
    if style == "other":
        return f"[{word}|{rng.choice(('cat', 'flower', 'tree', 'hat'))}]"
    i = rng.randrange(1, len(word) - 1)
    j = rng.randrange(i + 1, len(word) + 1)
    return f"{word[:i]}[{word[i:j]}|{word[i:j]}]{word[j:]}"


_Transform = Callable[[str, random.Random], str]
# Applied in this order when families are stacked: letters, then invisible characters, then structure.
_ORDER: tuple[tuple[str, _Transform], ...] = (
    ("typos", typos), ("repeats", repeats), ("leetspeak", leetspeak), ("homoglyphs", homoglyphs),
    ("accents", accents), ("zero_width", zero_width), ("separators", separators), ("spacing", spacing),
    ("alternation", alternation), ("weights", weights),
)
FAMILIES: tuple[str, ...] = tuple(sorted(name for name, _ in _ORDER))


def _word(word: str, families: frozenset[str], rng: random.Random) -> str:
    match = _CORE.match(word)
    if match is None:
        return word
    before, core, after = match.groups()
    if not content_word(core):
        return word
    for name, transform in _ORDER:
        if name == "separators" and "alternation" in families:
            core = separators(core, rng, bar=False)
        elif name in families:
            core = transform(core, rng)
    return f"{before}{core}{after}"


def obfuscate(text: str, families: Sequence[str], rng: random.Random) -> str:
    """Apply ``families`` (one or several names from ``FAMILIES``) to every content word of ``text``."""
    wanted = frozenset(families)
    unknown = wanted - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown obfuscation families: {sorted(unknown)}")
    return " ".join(_word(w, wanted, rng) for w in text.split())
