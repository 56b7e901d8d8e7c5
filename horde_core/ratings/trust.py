"""Whether a rater's scores can be believed: a pure rule, re-applied after every rating.

Why these numbers (the defaults in `[ratings]`):

- **Gold images** carry a known rating. A rater's gold error is the mean of |rating - gold|. An honest rater
  who is off by at most one point scores <= 1.0; one who disagrees by a point or two now and then, ~1.5. A
  script rating uniformly at random over 1-10 scores 2.5 against a gold of 5 or 6, 3.1 against 8 and 3.7
  against 2 (3.3 averaged over every gold rating). So `trust_max_gold_error = 2.0` splits them.
  `trust_min_gold = 5` gold ratings are enough to condemn, but trusting takes `trust_min_gold_to_trust = 10`:
  five random scores against gold spread over 1-10 average <= 2.0 about one time in eight, ten of them one
  time in twenty-five (more often against middling gold), and a trusted rater is checked five times less
  often, so a false "trusted" is the costly mistake.
- **Consensus** (where no gold is): the distance from the mean of at least `trust_min_consensus_raters`
  other *trusted* raters' ratings of the same image. Honest people disagree about taste (~1.3-1.6 on
  average); random scores sit ~2.6 away. It is weaker evidence, so it needs `trust_min_consensus = 10`
  ratings, condemns only above `trust_max_consensus_error = 2.5`, and proves only at least
  `trust_regain_margin` below it.
- **Recent behaviour counts most.** Each error is a running mean over about `trust_window` (10) recent
  ratings (a plain mean until then), so a trusted rater who turns random crosses the line after a few
  random gold ratings instead of after as many as they once rated honestly.
- **Hysteresis.** An untrusted rater must score `trust_regain_margin` (0.75) better than the limit to be
  trusted again (an honest rater off by at most a point still can), so a random rater does not flicker back
  on a lucky streak.

Simulated (`bench/rater_trust.py`, 4,000 seeded runs, gold every other pick on average until trusted, then
one in ten): a uniform-random rater is untrusted after a median of 9-10 ratings; 99% of them within 31 when
the gold ratings spread over 1-10, within 84-111 when they bunch in 3-8 or 5-7 (random scores land near a
middling gold more often: import gold images whose ratings spread); fewer than 0.5% are ever trusted again.
Honest raters (gold +-1) were never untrusted.

The verdict: bad evidence of either kind makes a rater untrusted; otherwise good evidence of either kind makes
them trusted; otherwise they keep their state (a new rater starts unproven, an operator-trusted account
starts trusted: evidence overrides the flag either way).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Protocol

UNPROVEN = "unproven"
TRUSTED = "trusted"
UNTRUSTED = "untrusted"


class TrustRules(Protocol):
    """The thresholds (RatingSettings has them all)."""

    trust_min_gold: int
    trust_min_gold_to_trust: int
    trust_max_gold_error: float
    trust_min_consensus_raters: int
    trust_min_consensus: int
    trust_max_consensus_error: float
    trust_regain_margin: float
    trust_window: int
    gold_every_unproven: int
    gold_every_trusted: int


@dataclass(frozen=True, slots=True)
class Evidence:
    gold_count: int = 0
    gold_error: float = 0.0  # running mean of |rating - gold|
    consensus_count: int = 0
    consensus_error: float = 0.0  # running mean of |rating - mean of trusted others|


def running_error(mean: float, count: int, error: float, window: int) -> float:
    """Fold one more error into a mean of `count` earlier ones: a plain mean for the first `window`, then an
    exponential moving average that weighs the newest as 1/window."""
    return mean + (error - mean) / min(count + 1, max(1, window))


def judge(previous: str, ev: Evidence, rules: TrustRules) -> str:
    """The rater's state after this evidence (see the module docstring)."""
    margin = rules.trust_regain_margin
    gold_limit = rules.trust_max_gold_error
    bad = good = False
    if ev.gold_count >= rules.trust_min_gold:
        bad = ev.gold_error > gold_limit
    if ev.gold_count >= rules.trust_min_gold_to_trust:
        good = ev.gold_error <= gold_limit - (margin if previous == UNTRUSTED else 0.0)
    if ev.consensus_count >= rules.trust_min_consensus:
        bad = bad or ev.consensus_error > rules.trust_max_consensus_error
        good = good or ev.consensus_error <= rules.trust_max_consensus_error - margin
    if bad:
        return UNTRUSTED
    if good:
        return TRUSTED
    return previous


def gold_gap(state: str, rng: random.Random, rules: TrustRules) -> int:
    """How many ordinary pool ratings before the next gold image: drawn at random around `every - 1`, so a
    script cannot tell from the order which pick is the check (every other pick on average until a rater is
    trusted, and while untrusted so they can earn trust back; about one in `gold_every_trusted` after). The
    draw is kept in the rater's record, so asking again for the next image does not skip a check."""
    every = rules.gold_every_trusted if state == TRUSTED else rules.gold_every_unproven
    return rng.randint(0, 2 * max(0, every - 1))


@dataclass(frozen=True, slots=True)
class Record:
    """A rater's trust: the state, its evidence, and the ordinary ratings left before a gold image."""

    state: str = UNPROVEN
    evidence: Evidence = Evidence()
    gold_in: int = 0  # 0: the next pick is a gold image (when one is left for this rater)


def after_rating(rec: Record, rating: int, *, gold: int | None, others: list[int], pool: bool,
                 rules: TrustRules, rng: random.Random) -> Record:
    """Fold one rating into a record: against the gold rating when the image has one, else against the mean
    of `others` (the trusted raters' ratings of the image) when there are enough of them; then judge."""
    ev, window = rec.evidence, rules.trust_window
    if gold is not None:
        ev = replace(ev, gold_count=ev.gold_count + 1,
                     gold_error=running_error(ev.gold_error, ev.gold_count, abs(rating - gold), window))
    elif len(others) >= rules.trust_min_consensus_raters:
        error = abs(rating - sum(others) / len(others))
        ev = replace(ev, consensus_count=ev.consensus_count + 1,
                     consensus_error=running_error(ev.consensus_error, ev.consensus_count, error, window))
    state = judge(rec.state, ev, rules)
    gold_in = rec.gold_in
    if pool:
        gold_in = gold_gap(state, rng, rules) if gold is not None else max(0, gold_in - 1)
    if state != rec.state:  # the schedule of the new state, at once
        gold_in = min(gold_in, gold_gap(state, rng, rules))
    return Record(state, ev, gold_in)


__all__ = ["TRUSTED", "UNPROVEN", "UNTRUSTED", "Evidence", "Record", "TrustRules", "after_rating", "gold_gap", "judge",
           "running_error"]
