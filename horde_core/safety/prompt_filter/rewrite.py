"""The replacement filter: turn a blocked request into a safe one, or say it cannot be done.

AI Horde's API defaults to ``replacement_filter=true``: rather than rejecting a request that mixes minors
and sexual content, it removes the minors.  Here that means: underage words are replaced by an adult
equivalent where one exists ("girl" -> "woman") and removed otherwise, ages under 18 become "adult",
adult-trait steering is dropped from the negative prompt, and protective terms are appended to it.
The caller blocks when this returns None: when the prompt names abuse outright, when its underage
evidence is of the strongest kind (toddler, loli, an age under 13), when a hit cannot be located word by
word, when fewer than two of the user's own content words would be left, or when the result would still
be blocked.
"""

from __future__ import annotations

import re

from horde_core.safety.prompt_filter.hit import Hit
from horde_core.safety.prompt_filter.normalize import normalize
from horde_core.safety.prompt_filter.terms import TermSet

__all__ = ["rewrite_request"]

_MIN_CONTENT_WORDS = 2
STRONGEST = 1.5  # underage evidence this strong (or stronger) is never rewritten away
_STOPWORDS = frozenset((
    "the", "and", "with", "for", "from", "into", "onto", "her", "his", "their", "its", "this", "that", "very",
    "wearing", "holding", "standing", "sitting", "photo", "picture", "image", "portrait", "style", "masterpiece",
    "best", "quality", "high", "highly", "detailed", "realistic", "el", "la", "los", "las", "una", "con", "de",
    "del", "der", "die", "das", "und", "mit", "le", "les", "des", "et", "avec", "il", "lo", "gli", "di",
))
_CORE = re.compile(r"^([\W_]*)(.*?)([\W_]*)$", re.DOTALL)
_PHRASE_REPLACEMENTS = {"little girl": "woman", "little boy": "man", "young girl": "young woman",
                        "young boy": "young man", "school girl": "woman", "school boy": "man"}


def _tidy(words: list[str]) -> str:
    text = " ".join(w for w in words if w)
    text = re.sub(r"[(\[{<]\s*[)\]}>]", " ", text)
    text = re.sub(r"(\s*,\s*)+", ", ", text)
    return re.sub(r"\s+", " ", text).strip(" ,")


def _edit(words: list[str], hits: list[Hit], replacements: dict[str, str] | None) -> list[str] | None:
    """Apply the hits' replacements (None: delete every hit) to a copy of ``words``; None when a hit
    cannot be located."""
    out = list(words)
    located = {h.entry.term for h in hits if h.first >= 0}
    for hit in hits:
        if hit.how == "pair" or (hit.first < 0 and hit.entry.term in located):
            continue  # a pair's words are hits of their own; a stream hit repeats a located one
        if hit.first < 0 or hit.last >= len(out):
            return None
        if hit.how == "cjk":
            for k in range(hit.first, hit.last + 1):
                if hit.source not in out[k]:
                    return None
                out[k] = out[k].replace(hit.source, "")
            continue
        if replacements is None:
            replacement = ""
        elif hit.how == "age":
            replacement = "adult"
        else:
            replacement = replacements.get(hit.source, _PHRASE_REPLACEMENTS.get(hit.source, ""))
        head = _CORE.match(out[hit.first])
        tail = _CORE.match(out[hit.last])
        before = head.group(1) if head else ""
        after = tail.group(3) if tail else ""
        for k in range(hit.first, hit.last + 1):
            out[k] = ""
        if replacement:
            out[hit.first] = f"{before}{replacement}{after}"
        else:
            out[hit.first] = "," if "," in before + after else ""
    return out


def _content_words(text: str, inserted: set[str]) -> int:
    tokens = normalize(text).tokens
    return sum(1 for t in tokens if len(t.text) >= 3 and t.text not in _STOPWORDS and t.text not in inserted)


def rewrite_request(terms: TermSet, abuse_terms: frozenset[str], prompt: str, negative: str,
                    pos_hits: list[Hit], neg_hits: list[Hit]) -> tuple[str, str] | None:
    """Rewrite one blocked request (positive and negative already split); see the module docstring."""
    underage = [h for h in pos_hits if h.entry.group == "underage"]
    if any(h.entry.term in abuse_terms for h in pos_hits):
        return None
    if any(h.entry.weight >= STRONGEST for h in underage):
        return None  # toddler, infant, loli, an age under 13: the request is about the child, not incidental
    edited = _edit(prompt.split(), underage, terms.replacements)
    if edited is None:
        return None
    new_prompt = _tidy(edited)
    inserted = {w.casefold() for w in (*terms.replacements.values(), *_PHRASE_REPLACEMENTS.values(), "adult")}
    inserted = {part for w in inserted for part in w.split()}
    if _content_words(new_prompt, inserted) < _MIN_CONTENT_WORDS:
        return None
    steering = [h for h in neg_hits if h.entry.group == "steer" or (h.how == "age" and h.entry.group == "context")]
    neg_words = _edit(negative.split(), [h for h in steering if h.first >= 0], None) or negative.split()
    new_negative = _tidy(neg_words)
    present = {t.text for t in normalize(new_negative).tokens}
    extra = [p for p in terms.protective_negative if p.casefold() not in present]
    new_negative = ", ".join(x for x in (new_negative, ", ".join(extra)) if x)
    return new_prompt, new_negative
