"""How the rater-trust rule (horde_core/ratings/trust.py) treats a random script and an honest rater, simulated.

Run by hand: `.venv/bin/python bench/rater_trust.py [--runs N]`. Each run feeds the pure rule with the ratings of
one rater who meets gold images on the rule's own random schedule: a uniform-random script, or an honest rater
off by at most one point. Reported per spread of gold ratings: after how many ratings the script was untrusted
(median, 99th percentile, worst), how many scripts were ever trusted again, and how many honest raters ended
anywhere but trusted. The numbers quoted in trust.py's docstring come from this, with the default settings.
"""

from __future__ import annotations

import argparse
import random

from horde_core.config import RatingSettings
from horde_core.ratings.trust import TRUSTED, UNTRUSTED, Record, after_rating

SPREADS = {"gold 1-10": list(range(1, 11)), "gold 3-8": list(range(3, 9)), "gold 5-7": [5, 6, 7]}


def run(seed: int, honest: bool, golds: list[int], rules: RatingSettings, n: int = 300) -> tuple[int | None, bool, str]:
    """(the rating that condemned the rater, whether they were ever trusted again after, their final state)"""
    rng, draws = random.Random(seed), random.Random(seed + 10**6)
    rec, condemned, regained = Record(), None, False
    for i in range(1, n + 1):
        gold = rng.choice(golds) if rec.gold_in <= 0 else None
        score = min(10, max(1, gold + rng.randint(-1, 1))) if honest and gold is not None else rng.randint(1, 10)
        before = rec.state
        rec = after_rating(rec, score, gold=gold, others=[], pool=True, rules=rules, rng=draws)
        regained = regained or (before == UNTRUSTED and rec.state != UNTRUSTED)
        if rec.state == UNTRUSTED and condemned is None:
            condemned = i
    return condemned, regained, rec.state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4000)
    runs = parser.parse_args().runs
    rules = RatingSettings()
    print(f"{'':<10} {'median':>7} {'p99':>5} {'worst':>6} {'trusted again':>14} {'honest not trusted':>19}")
    for name, golds in SPREADS.items():
        scripts = [run(seed, False, golds, rules) for seed in range(runs)]
        caught = sorted(c if c is not None else 10**6 for c, _, _ in scripts)
        again = sum(r for _, r, _ in scripts) / runs
        honest = sum(run(seed, True, golds, rules)[2] != TRUSTED for seed in range(runs // 4))
        worst = "never" if caught[-1] == 10**6 else str(caught[-1])
        print(f"{name:<10} {caught[runs // 2]:>7} {caught[runs * 99 // 100]:>5} {worst:>6} {again:>14.2%} "
              f"{honest:>19}")


if __name__ == "__main__":
    main()
