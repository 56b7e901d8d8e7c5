"""The prompt filter: weigh underage and sexual evidence, block only when both are present.

Scoring, in words.  Every matched term adds its weight to its group once (repeating a word does not
stack).  Underage evidence is *hard* (child, loli, an age under 18: nothing in the prompt can explain it
away) or *soft* (girl, teen, petite: adult context such as "adult", "woman" or "30 year old" lowers it).
The negative prompt counts both ways: adult traits avoided there ("adult, mature, large breasts") while
the prompt asks for sexual content push the soft score up along a saturating curve - a weight, not a
switch - and child terms avoided there ("child, teen") count a little against underage.

    underage = hard + max(0, soft + steering - context - protective)
    blocked  = underage >= threshold and sexual >= threshold
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from horde_core.safety.prompt_filter.agehits import ADULT_AGE_CONTEXT
from horde_core.safety.prompt_filter.hit import Hit
from horde_core.safety.prompt_filter.matcher import Matcher
from horde_core.safety.prompt_filter.normalize import Token, normalize
from horde_core.safety.prompt_filter.readings import readings
from horde_core.safety.prompt_filter.rewrite import rewrite_request
from horde_core.safety.prompt_filter.terms import TermSet, compile_terms, load_default_terms

__all__ = ["ADULT_AGE_CONTEXT", "PromptFilter", "Verdict", "split_negative"]

STEER_CAP = 1.5  # the most the negative prompt alone can add to the underage score
PROTECTIVE_CAP = 0.3  # the most child terms in the negative can subtract (they are cheap to add)
ADULT_AGE_STEER = 0.4


@dataclass(frozen=True)
class Verdict:
    """The filter's answer for one request; ``matches`` and ``reasons`` are meant for the audit log."""

    blocked: bool
    score: float
    sexual: float
    groups: list[str] = field(default_factory=list)
    matches: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the CLI prints this)."""
        return {"blocked": self.blocked, "score": round(self.score, 3), "sexual": round(self.sexual, 3),
                "groups": list(self.groups), "matches": list(self.matches), "reasons": list(self.reasons)}


@dataclass
class _Assessment:
    """What ``check`` found, kept so ``rewrite`` can edit the very words that fired."""

    pos_hits: list[Hit]
    neg_hits: list[Hit]
    verdict: Verdict
    written: bool = True  # False: the verdict is that of an alternation reading, not of the prompt as written


def split_negative(prompt: str, negative: str = "") -> tuple[str, str]:
    """AI Horde prompts carry the negative after ``###``; merge it with an explicit negative."""
    if "###" in prompt:
        prompt, _, tail = prompt.partition("###")
        negative = f"{tail.replace('###', ' ')} {negative}".strip()
    return prompt, negative


def _distinct(hits: list[Hit], group: str) -> dict[str, Hit]:
    """The strongest hit per term of one group (a repeated word counts once)."""
    best: dict[str, Hit] = {}
    for hit in hits:
        if hit.entry.group == group:
            seen = best.get(hit.entry.term)
            if seen is None or hit.entry.weight > seen.entry.weight:
                best[hit.entry.term] = hit
    return best


class PromptFilter:
    """Decides whether a prompt asks for sexual content involving minors, however it is spelt."""

    def __init__(self, terms: dict[str, Any] | None = None) -> None:
        """Build every index once; ``terms`` is a dict shaped like ``data/default_terms.json`` (default)."""
        self.terms: TermSet = compile_terms(terms if terms is not None else load_default_terms())
        self._matcher = Matcher(self.terms)
        self._word_cache: OrderedDict[str, tuple[tuple[Token, ...], str, bool]] = OrderedDict()
        groups_by_term: dict[str, set[str]] = {}
        for entries in (*self.terms.words.values(), *self.terms.prefixes.values(), *self.terms.cjk.values(),
                        *(es for phrase in self.terms.phrases.values() for _, es in phrase)):
            for entry in entries:
                groups_by_term.setdefault(entry.term, set()).add(entry.group)
        self._both = frozenset(t for t, g in groups_by_term.items() if {"underage", "sexual"} <= g)

    # --- checking ------------------------------------------------------------------------------------
    def check(self, prompt: str, negative: str = "") -> Verdict:
        """Score one request; blocked only when both the underage and the sexual group are present."""
        return self._assess(prompt, negative).verdict

    def _hits(self, text: str) -> list[Hit]:
        if not text.strip():
            return []
        return self._matcher.match(normalize(text, self._word_cache))

    def _assess(self, prompt: str, negative: str) -> _Assessment:
        """The verdict on the prompt or, when it uses alternation (``[a|b]``), on each of its readings: the
        strongest one counts, because the model sees every option."""
        prompt, negative = split_negative(prompt, negative)
        pos_readings, neg_readings = readings(prompt), readings(negative)
        found = self._assess_reading(pos_readings[0], neg_readings[0])
        if (pos_readings[0], neg_readings[0]) != (prompt, negative):
            found.written = False
        for k in range(1, max(len(pos_readings), len(neg_readings))):
            other = self._assess_reading(pos_readings[min(k, len(pos_readings) - 1)],
                                         neg_readings[min(k, len(neg_readings) - 1)])
            if (other.verdict.blocked, other.verdict.score) > (found.verdict.blocked, found.verdict.score):
                found = _Assessment(other.pos_hits, other.neg_hits, other.verdict, written=False)
        return found

    def _assess_reading(self, prompt: str, negative: str) -> _Assessment:
        pos = self._hits(prompt)
        neg = self._hits(negative)
        under = _distinct(pos, "underage")
        sexual_hits = _distinct(pos, "sexual")
        context = _distinct(pos, "context")
        steer = _distinct(neg, "steer")
        steer.update({f"age:{k}": h for k, h in _distinct(neg, "context").items() if h.how == "age"})
        protective = _distinct(neg, "underage")

        sexual = sum(h.entry.weight for h in sexual_hits.values())
        hard = sum(h.entry.weight for h in under.values() if h.entry.hard)
        soft = sum(h.entry.weight for h in under.values() if not h.entry.hard)
        ctx = sum(h.entry.weight for h in context.values())
        steer_raw = sum(ADULT_AGE_STEER if h.how == "age" else h.entry.weight for h in steer.values())
        steering = STEER_CAP * (1 - math.exp(-steer_raw / STEER_CAP)) * min(1.0, sexual)
        guard = min(PROTECTIVE_CAP, 0.15 * len(protective))
        underage = hard + max(0.0, soft + steering - ctx - guard)

        limits = self.terms.thresholds
        groups = [g for g, v in (("underage", underage), ("sexual", sexual)) if v >= limits[g] - 1e-9]
        blocked = len(groups) == 2
        matches = [h.label() for h in (*under.values(), *sexual_hits.values(), *context.values())]
        matches += [f"negative:{h.label()}" for h in (*steer.values(), *protective.values())]
        reasons = []
        if under:
            reasons.append(f"underage score {underage:.2f} (threshold {limits['underage']:g}): "
                           + ", ".join(sorted(under)))
        if sexual_hits:
            reasons.append(f"sexual score {sexual:.2f} (threshold {limits['sexual']:g}): "
                           + ", ".join(sorted(sexual_hits)))
        if steering > 0:
            reasons.append(f"negative prompt avoids adult traits: +{steering:.2f} underage")
        if ctx or guard:
            reasons.append(f"adult context -{ctx:.2f}, protective negative -{guard:.2f} (soft evidence only)")
        if blocked:
            reasons.append("blocked: sexual content together with underage evidence")
        verdict = Verdict(blocked, underage, sexual, groups, matches, reasons)
        return _Assessment(pos, neg, verdict)

    # --- the replacement filter ----------------------------------------------------------------------
    def rewrite(self, prompt: str, negative: str = "") -> tuple[str, str] | None:
        """Strip underage terms and force a protective negative; None when the request must be blocked.

        A request that is not blocked comes back unchanged.  A blocked one comes back as ``(prompt,
        negative)`` with the negative split out of any ``###``, underage words replaced by adult ones or
        removed, adult-trait steering removed from the negative and protective terms appended to it.
        None means "block instead": the prompt names abuse outright (``pedo``, ``lolicon``), its underage
        evidence is of the strongest kind (toddler, loli, an age under 13), evidence could not be located
        word by word, too little is left, or the result would still be blocked.
        """
        found = self._assess(prompt, negative)
        if not found.verdict.blocked:
            return prompt, negative
        if not found.written:
            return None  # the evidence sits inside alternation syntax: no word of the prompt to replace
        pos_text, neg_text = split_negative(prompt, negative)
        result = rewrite_request(self.terms, self._both, pos_text, neg_text, found.pos_hits, found.neg_hits)
        if result is None or self.check(*result).blocked:
            return None
        return result

    @property
    def abuse_terms(self) -> frozenset[str]:
        """Terms listed in both groups: they name abuse by themselves, so no rewrite can save the prompt."""
        return self._both
