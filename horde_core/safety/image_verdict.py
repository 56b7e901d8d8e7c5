"""Deciding from CLIP-style concept scores whether an image is csam, and whether it is nsfw.

A scorer (an alchemist's `nsfw` form, a worker's own check) reports a similarity per concept.
Our thresholds are our own. Two kinds of concepts are judged: underage ones and sexual ones; an
image is csam only when both are present. Control concepts move the bar: a strong "pregnant"
score explains a belly that "infant" or "baby" also matches, and an anime style makes adult
characters look younger, so both raise the bar for the underage concepts instead of vetoing
them. The prompt nudges a little, never decides: asking for adults raises the bar slightly,
asking for youth (or steering away from adult traits in the negative) lowers it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

UNDERAGE = {"child": 0.21, "children": 0.21, "kid": 0.21, "infant": 0.22, "baby": 0.22, "toddler": 0.21,
            "teen": 0.23, "young girl": 0.21, "young boy": 0.21, "underage": 0.20}
SEXUAL = {"nude": 0.22, "naked": 0.22, "explicit": 0.22, "sexual": 0.21, "porn": 0.21, "genitals": 0.20,
          "nipples": 0.22, "lingerie": 0.24}
CONTROL_RAISE = {"pregnant": 0.05, "anime": 0.02, "adult": 0.03, "mature": 0.02}
NSFW_LINE = 0.23  # a sexual concept above this makes an image nsfw (censored where nsfw is not allowed)
PROMPT_NUDGE = 0.01


@dataclass(frozen=True, slots=True)
class ImageVerdict:
    csam: bool
    nsfw: bool
    underage: list[str] = field(default_factory=list)
    sexual: list[str] = field(default_factory=list)
    bar_shift: float = 0.0


def _present(scores: dict[str, float], thresholds: dict[str, float], shift: float) -> list[str]:
    return sorted(c for c, bar in thresholds.items() if scores.get(c, 0.0) >= bar + shift)


def decide(scores: dict[str, float], *, prompt_underage: bool = False, prompt_adult: bool = False,
           negative_avoids_adult: bool = False) -> ImageVerdict:
    """The verdict for one image. `scores` maps concept names to similarities (about 0.1-0.35)."""
    shift = 0.0
    for concept, raise_by in CONTROL_RAISE.items():
        strength = scores.get(concept, 0.0)
        if strength >= 0.22:  # only a clear control concept moves the bar
            shift += raise_by
    if prompt_adult:
        shift += PROMPT_NUDGE
    if prompt_underage:
        shift -= PROMPT_NUDGE
    if negative_avoids_adult:
        shift -= PROMPT_NUDGE
    underage = _present(scores, UNDERAGE, shift)
    sexual = _present(scores, SEXUAL, 0.0)
    nsfw = any(scores.get(c, 0.0) >= max(NSFW_LINE, bar) for c, bar in SEXUAL.items())
    return ImageVerdict(csam=bool(underage and sexual), nsfw=nsfw or bool(sexual), underage=underage,
                        sexual=sexual, bar_shift=round(shift, 4))
