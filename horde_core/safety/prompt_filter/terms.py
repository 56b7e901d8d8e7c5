"""Term sets: the shipped defaults and the compiled, indexed form the matcher reads.

The source shape is a plain dict (the JSON file under ``data/``), so admins can keep their own copy in the
database and hand it to ``PromptFilter`` unchanged.  ``compile_terms`` validates it and normalises every
term exactly like a prompt, which is what lets ``"mädchen"`` in the data match ``M4DCHEN`` in a prompt.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from horde_core.safety.prompt_filter.normalize import term_key

__all__ = ["Entry", "PairRule", "TermSet", "compile_terms", "load_default_terms"]

GROUPS = ("underage", "sexual")
FUZZY_MIN_WEIGHT = 0.25  # weaker terms ("piccolo", 0.2) are not worth a typo guess
_PACKAGE = "horde_core.safety.prompt_filter"


@dataclass(frozen=True, slots=True)
class Entry:
    """One weighted piece of evidence: which group it feeds, how much, and whether context can cancel it."""

    term: str
    group: str  # "underage" | "sexual" | "context" | "steer" | "safe"
    weight: float
    hard: bool = False


@dataclass(frozen=True, slots=True)
class PairRule:
    """Two words near each other mean more than apart ("little ... girl"); the hit feeds ``group``."""

    name: str
    a: frozenset[str]
    b: frozenset[str]
    window: int
    weight: float
    group: str = "underage"


@dataclass(frozen=True, slots=True)
class TermSet:
    """Indexes built once per filter; every lookup during ``check`` is a dict or a precompiled regex."""

    thresholds: dict[str, float]
    words: dict[str, tuple[Entry, ...]]
    prefixes: dict[str, tuple[Entry, ...]]
    phrases: dict[str, tuple[tuple[tuple[str, ...], tuple[Entry, ...]], ...]]
    cjk: dict[str, tuple[Entry, ...]]
    substrings: tuple[str, ...]
    pairs: tuple[PairRule, ...]
    benign: frozenset[str]
    replacements: dict[str, str]
    protective_negative: tuple[str, ...]
    vocab: frozenset[str]
    fuzzy_words: frozenset[str]
    fuzzy_wide: frozenset[str] = frozenset()  # fuzzy words that tolerate two typos when long
    fuzzy_aliases: dict[str, str] = field(default_factory=dict)  # Russian originals, plurals -> term


def load_default_terms() -> dict[str, Any]:
    """Read the shipped default term set (called by the composition root or a test, never at import)."""
    text = resources.files(_PACKAGE).joinpath("data", "default_terms.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _weights(section: Any, where: str) -> dict[str, float]:
    """Flatten ``{"lang": {"term": weight}}`` (or a flat ``{"term": weight}``) into one dict."""
    if not isinstance(section, dict):
        raise ValueError(f"{where} must be an object")
    flat: dict[str, float] = {}
    for key, value in section.items():
        if isinstance(value, dict):
            flat.update(_weights(value, f"{where}.{key}"))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[str(key)] = float(value)
        else:
            raise ValueError(f"{where}.{key}: weight must be a number")
    return flat


def _strings(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of strings")
    return value


def _key(term: str) -> tuple[tuple[str, ...], bool, bool]:
    """(words, is_cjk, is_prefix) for one term as written in the data."""
    prefix = term.endswith("*")
    words, cjk = term_key(term.rstrip("*"))
    if not words or not all(words):
        raise ValueError(f"term {term!r} is empty after normalisation")
    return words, cjk, prefix


class _Builder:
    """Accumulates entries per index while the source dict is walked."""

    def __init__(self, hard: set[tuple[str, ...]]) -> None:
        self.hard = hard
        self.words: dict[str, list[Entry]] = defaultdict(list)
        self.prefixes: dict[str, list[Entry]] = defaultdict(list)
        self.phrases: dict[tuple[str, ...], list[Entry]] = defaultdict(list)
        self.cjk: dict[str, list[Entry]] = defaultdict(list)
        self.vocab: set[str] = set()

    def add(self, term: str, group: str, weight: float) -> None:
        words, cjk, prefix = _key(term)
        entry = Entry(term, group, weight, hard=group == "underage" and (words in self.hard))
        if cjk:
            self.cjk[words[0]].append(entry)
        elif prefix and len(words) == 1:
            self.prefixes[words[0]].append(entry)
        elif len(words) == 1:
            self.words[words[0]].append(entry)
            self.vocab.add(words[0])
        else:
            self.phrases[words].append(entry)
            self.vocab.update(words)


def compile_terms(data: dict[str, Any]) -> TermSet:
    """Validate a term-set dict (same shape as ``data/default_terms.json``) and build its indexes."""
    if not isinstance(data, dict) or not isinstance(data.get("groups"), dict):
        raise ValueError("a term set needs a 'groups' object")
    thresholds = {"underage": 1.0, "sexual": 1.0, **_weights(data.get("thresholds", {}), "thresholds")}
    hard = {_key(t)[0] for t in _strings(data, "hard")}
    builder = _Builder(hard)
    for group in GROUPS:
        for term, weight in _weights(data["groups"].get(group, {}), f"groups.{group}").items():
            builder.add(term, group, weight)
    for term, weight in _weights(data.get("context", {}), "context").items():
        builder.add(term, "context", weight)
    for term, weight in _weights(data.get("steering", {}), "steering").items():
        builder.add(term, "steer", weight)
    for term in _strings(data, "safe_phrases"):
        builder.add(term, "safe", 0.0)
    fuzzy_words = _fuzzy_words(data, "fuzzy_sections")
    fuzzy_wide = _fuzzy_words(data, "fuzzy_wide_sections") if "fuzzy_wide_sections" in data else fuzzy_words
    pairs = []
    for raw in data.get("pairs", []):
        if not isinstance(raw, dict) or not {"a", "b"} <= raw.keys():
            raise ValueError("each pair needs 'a' and 'b' word lists")
        a = frozenset(_key(w)[0][0] for w in raw["a"])
        b = frozenset(_key(w)[0][0] for w in raw["b"])
        builder.vocab.update(a | b)
        group = str(raw.get("group", "underage"))
        if group not in GROUPS:
            raise ValueError(f"pair group must be one of {GROUPS}")
        pairs.append(PairRule(str(raw.get("name", "pair")), a, b, int(raw.get("window", 2)),
                              float(raw.get("weight", 0.5)), group))
    phrases: dict[str, list[tuple[tuple[str, ...], tuple[Entry, ...]]]] = defaultdict(list)
    for words, entries in builder.phrases.items():
        phrases[words[0]].append((words, tuple(entries)))
    replacements = data.get("replacements", {})
    if not isinstance(replacements, dict):
        raise ValueError("replacements must be an object")
    return TermSet(
        thresholds=thresholds,
        words={k: tuple(v) for k, v in builder.words.items()},
        prefixes={k: tuple(v) for k, v in builder.prefixes.items()},
        phrases={k: tuple(sorted(v, key=lambda p: -len(p[0]))) for k, v in phrases.items()},
        cjk={k: tuple(v) for k, v in builder.cjk.items()},
        substrings=tuple(sorted({"".join(_key(t)[0]) for t in _strings(data, "substring")}, key=len, reverse=True)),
        pairs=tuple(pairs),
        benign=frozenset("".join(_key(w)[0]) for w in (*_strings(data, "benign_words"),
                                                         *_strings(data, "benign_swept"))),
        replacements={" ".join(_key(k)[0]): str(v) for k, v in replacements.items()},
        protective_negative=tuple(_strings(data, "protective_negative")),
        vocab=frozenset(builder.vocab),
        fuzzy_words=fuzzy_words,
        fuzzy_wide=fuzzy_wide & fuzzy_words,
        fuzzy_aliases=_fuzzy_aliases(data, fuzzy_words),
    )


def _fuzzy_aliases(data: dict[str, Any], fuzzy_words: frozenset[str]) -> dict[str, str]:
    """Spellings a typo may start from besides the term itself: the Cyrillic original of a Russian term
    (its key is transliterated) and the plural in "-s" of every term that has none."""
    aliases = {f"{w}s": w for w in fuzzy_words if not w.endswith("s") and len(w) >= 3}
    for by_section in (*(data["groups"].get(g, {}) for g in GROUPS), data.get("steering", {})):
        for terms in by_section.values():
            for term in terms if isinstance(terms, dict) else ():
                key, cjk, prefix = _key(term)
                if not cjk and not prefix and len(key) == 1 and key[0] in fuzzy_words and not term.isascii():
                    aliases.setdefault(term.casefold().replace("\u0451", "\u0435"), key[0])
    return {a: t for a, t in aliases.items() if a not in fuzzy_words}


def _fuzzy_aliases(data: dict[str, Any], fuzzy_words: frozenset[str]) -> dict[str, str]:
    """Spellings a typo may start from besides the term itself: the Cyrillic original of a Russian term
    (its key is transliterated) and the plural in "-s" of every term that has none."""
    aliases = {f"{w}s": w for w in fuzzy_words if not w.endswith("s") and len(w) >= 3}
    for by_section in (*(data["groups"].get(g, {}) for g in GROUPS), data.get("steering", {})):
        for terms in by_section.values():
            for term in terms if isinstance(terms, dict) else ():
                key, cjk, prefix = _key(term)
                if not cjk and not prefix and len(key) == 1 and key[0] in fuzzy_words and not term.isascii():
                    aliases.setdefault(term.casefold().replace("\u0451", "\u0435"), key[0])
    return {a: t for a, t in aliases.items() if a not in fuzzy_words}


def _fuzzy_words(data: dict[str, Any], key: str) -> frozenset[str]:
    """Words typo tolerance may aim at: the terms of the ``fuzzy_sections`` (default: every section) of
    both groups and of the negative-prompt steering, the words of strong phrases and of the pair rules.

    Every language is misspelt, so every language's terms tolerate typos; what keeps a real word of some
    language from being read as a typo of a term ("cachorro" is two edits from "cachondo") is the benign
    list, swept from the word lists of the languages served (``benign_sweep.py``), and the length rules of
    ``fuzzy.py``.  Very weak terms (below ``FUZZY_MIN_WEIGHT``) are not worth a guess.  With ``key`` set to
    ``fuzzy_wide_sections`` it names the sections whose long terms tolerate two typos (pair words: none).
    """
    wanted = data.get(key)
    if wanted is not None and not (isinstance(wanted, list) and all(isinstance(w, str) for w in wanted)):
        raise ValueError(f"{key} must be a list of section names")
    words: set[str] = set()
    sections = [(group, data["groups"].get(group, {})) for group in GROUPS] + [("steer", data.get("steering", {}))]
    for group, by_section in sections:
        for section, terms in by_section.items():
            if not isinstance(terms, dict) or (wanted is not None and section not in wanted):
                continue
            for term, weight in terms.items():
                spelt, cjk, prefix = _key(term)
                if cjk or prefix:
                    continue
                if len(spelt) == 1 and (weight >= FUZZY_MIN_WEIGHT or group == "steer"):
                    words.add(spelt[0])
                elif len(spelt) > 1 and weight >= 0.8:  # "litle girl": the words of strong phrases
                    words.update(spelt)
    if key == "fuzzy_sections":
        for raw in data.get("pairs", []):
            if isinstance(raw, dict):
                words.update(_key(w)[0][0] for w in (*raw.get("a", ()), *raw.get("b", ())))
        # The words of safe phrases tolerate typos too ("bbay pnik" is still "baby pink"): an attacker gains
        # nothing from misspelling them, since the plain phrase is there to be written.  Adult context does
        # not: a misspelt "chambre" must not become "hombre" and explain a child away.
        words.update(w for term in _strings(data, "safe_phrases") for w in _key(term)[0] if len(w) >= 4)
    return frozenset(words)
