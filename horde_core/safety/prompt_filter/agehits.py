"""Ages as evidence, read from the resolved words of the prompt, like every other detector.

The age patterns read what the normaliser and the resolver made of each token after leetspeak,
look-alikes, separators, repeats, spacing and typos ("1 2 y34r5 0ld", "12 yaers odl" -> "12 years old"),
so an age survives the same tricks as a term, and so do the guards that keep durations and objects out
(whisky with look-alike letters is still whisky).  Decimals stay one token ("11.5mm" is no age) and a trailing "+"
is kept ("18+").  A hit maps back to the original words, so the replacement filter can put "adult" there.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from horde_core.safety.prompt_filter.ages import AgeHit, age_units, find_ages, number_words
from horde_core.safety.prompt_filter.hit import Hit
from horde_core.safety.prompt_filter.normalize import NormalizedText
from horde_core.safety.prompt_filter.terms import Entry

__all__ = ["ADULT_AGE_CONTEXT", "age_entry", "age_hits"]

ADULT_AGE_CONTEXT = 0.6
_UNDER_13 = 1.5
_UNDER_18 = 1.2
_DIGIT_LOOKALIKES = re.compile(r"(?=.*\d)[\dlio|]{2,4}")  # "l2" and "1O" are 12 and 10 beside an age unit
_AS_DIGITS = str.maketrans("lio|", "1101")
_PLUS = re.compile(r"\d\s*\+[)\]}>'\"]*,?$")

Placed = tuple[str, int, int]  # the word the age patterns read, its first and last original word


def age_entry(age: AgeHit) -> Entry:
    """Under 13 and under 18 are hard underage evidence of two strengths; 18 and over is adult context."""
    if age.age < 13:
        return Entry(f"age {age.age}", "underage", _UNDER_13, hard=True)
    if age.age < 18:
        return Entry(f"age {age.age}", "underage", _UNDER_18, hard=True)
    return Entry(f"age {age.age}", "context", ADULT_AGE_CONTEXT)


def _guess_near_numbers(words: list[Placed], guess: Callable[[str], str | None]) -> list[Placed]:
    """Misspelt age words are guessed only where an age can be: up to three words around a number ("gril,
    10", "10 yaers"), and before a unit ("twelwe years"); ordinary prompts never pay for the guess."""
    units = age_units()
    out = list(words)
    for _ in range(2):  # twice: "twlve yera old" needs "yera" read as a unit before "twlve" is a number
        numeric = [any(c.isdigit() for c in w) or w in number_words() for w, _, _ in out]
        for k, (word, first, last) in enumerate(out):
            near = any(numeric[max(0, k - 3):k + 3]) or any(w in units for w, _, _ in out[k + 1:k + 3])
            if near and not numeric[k] and word.isalpha() and len(word) >= 4 and word not in units:
                better = guess(word)
                if better:
                    out[k] = (better, first, last)
    return out


def age_hits(norm: NormalizedText, words: list[Placed], guess: Callable[[str], str | None] | None = None) -> list[Hit]:
    """Every age in the prompt; ``words`` are the resolved words in prompt order (CJK tokens included) and
    ``guess`` reads a misspelt age word (the resolver's ``age_guess``)."""
    numbers, units = number_words(), age_units()
    if not any(any(c.isdigit() for c in w) or w in numbers or w in units for w, _, _ in words):
        return []
    if guess is not None:
        words = _guess_near_numbers(words, guess)
    spelt = []
    for k, (word, _, last) in enumerate(words):
        word = word.translate(_AS_DIGITS) if _DIGIT_LOOKALIKES.fullmatch(word) else word
        if (k + 1 == len(words) or words[k + 1][1] != last) and _PLUS.search(norm.words[last]):
            word += "+"  # "18+" (the tokens dropped the sign)
        spelt.append(word.replace(" ", "-"))
    text = " ".join(spelt)
    hits = []
    for age in find_ages(text):
        first = words[text.count(" ", 0, age.start)][1]
        last = words[text.count(" ", 0, max(age.start, age.end - 1))][2]
        hits.append(Hit(age_entry(age), "age", age.text, first, last))
    return hits

