"""Latency of the prompt filter's check (what `safety check` and every request pay), beside baselines.

Run by hand: `.venv/bin/python bench/prompt_filter.py [--checks N] [--words N]` (about half a minute).

- all-new words: prompts (and half the time a negative) made of words the filter has never seen, so no cache
  helps: every word is folded, tokenised, spelt every way and resolved (typo guesses included). This is the
  figure the target is about: p99 per check under 2 ms.
- baseline: the same prompts through a trivial normaliser (NFKC, casefold, split, one dict lookup per word),
  timed interleaved with the filter, so machine noise falls on both; the ratio is filter / baseline.
- warm: one ordinary prompt checked again and again (every word cached), the common case in production.
- stacked tricks: obfuscated variants of the robustness seeds (two families each), the attacker's path.

Each check is timed twice: wall clock (what a caller waits) and the thread's CPU time (what the check costs,
without the time the scheduler gave other processes: on a shared 2-core machine with a load of 5, wall-clock
tails are mostly other people's work). Both are printed; the target is read on CPU time when the machine was
busy. Timings are never asserted; read the load line first and rerun when it was busy.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import string
import time
import unicodedata
from collections.abc import Callable

from _cpu import machine_cpu

from horde_core.safety.prompt_filter import PromptFilter
from horde_core.safety.prompt_filter.obfuscate import FAMILIES, obfuscate
from horde_core.safety.prompt_filter.robustness import DEV_SEEDS, load_seeds

TARGET_P99_MS = 2.0
_WARM = ("masterpiece, best quality, a woman in a red dress walking through a rainy city street at night, "
         "neon reflections, cinematic lighting, 35mm photo, detailed face, bokeh")


def _new_words(rng: random.Random, count: int) -> str:
    words = []
    for k in range(count):
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 10)))
        words.append(word + ("," if k % 6 == 5 else ""))
    return " ".join(words)


def _trivial(prompt: str, negative: str, vocab: frozenset[str]) -> bool:
    words = unicodedata.normalize("NFKC", f"{prompt} {negative}").casefold().split()
    return any(w.strip(",") in vocab for w in words)


def _percentiles(samples: list[int]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6  # noqa: E731
    return {"p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99), "max": ordered[-1] / 1e6,
            "mean": sum(ordered) / len(ordered) / 1e6}


def _time(call: Callable[[], object], cpu: list[int]) -> int:
    """Wall-clock nanoseconds of one call; its CPU nanoseconds are appended to ``cpu``."""
    start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
    call()
    cpu.append(time.thread_time_ns() - start_cpu)
    return time.perf_counter_ns() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=3000, help="prompts per workload")
    parser.add_argument("--words", type=int, default=30, help="words per all-new prompt")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    busy0, total0 = machine_cpu()
    time.sleep(1.0)
    busy1, total1 = machine_cpu()
    load = (busy1 - busy0) / max(1.0, total1 - total0)
    print(f"machine busy before start: {load:.0%} of {os.cpu_count()} cores (others' work adds noise)")

    started = time.perf_counter()
    pf = PromptFilter()
    print(f"filter built in {1000 * (time.perf_counter() - started):.0f} ms")
    vocab = pf.terms.vocab
    prompts = [(_new_words(rng, args.words), _new_words(rng, 10) if k % 2 else "") for k in range(args.checks)]
    seeds = [s for s in load_seeds(DEV_SEEDS) if s["label"] == "block"]
    pairs = [(a, b) for i, a in enumerate(FAMILIES) for b in FAMILIES[i + 1:]]
    attacks = []
    for _ in range(args.checks):
        seed, combo = rng.choice(seeds), rng.choice(pairs)
        attacks.append((obfuscate(seed["prompt"], combo, rng), obfuscate(seed.get("negative", ""), combo, rng)))

    gc.collect()
    names = ("all-new words", "baseline (trivial normalise)", "warm (cached words)", "stacked tricks (2 families)")
    wall: dict[str, list[int]] = {n: [] for n in names}
    cpu: dict[str, list[int]] = {n: [] for n in names}
    for k, (prompt, negative) in enumerate(prompts):
        wall[names[1]].append(_time(lambda p=prompt, n=negative: _trivial(p, n, vocab), cpu[names[1]]))
        wall[names[0]].append(_time(lambda p=prompt, n=negative: pf.check(p, n), cpu[names[0]]))
        wall[names[2]].append(_time(lambda: pf.check(_WARM), cpu[names[2]]))
        wall[names[3]].append(_time(lambda a=attacks[k]: pf.check(*a), cpu[names[3]]))

    print(f"\n{args.checks} checks per workload, {args.words} words per all-new prompt (ms per check)")
    for clock, samples in (("wall clock", wall), ("CPU time of the checking thread", cpu)):
        figures = {name: _percentiles(values) for name, values in samples.items()}
        base = figures[names[1]]
        print(f"\n{clock}:\n{'workload':32s} {'p50':>7s} {'p90':>7s} {'p99':>7s} {'max':>7s} {'mean':>7s} "
              f"{'p99/baseline':>13s}")
        for name, fig in figures.items():
            ratio = fig["p99"] / base["p99"] if base["p99"] else float("nan")
            print(f"{name:32s} {fig['p50']:7.3f} {fig['p90']:7.3f} {fig['p99']:7.3f} {fig['max']:7.3f} "
                  f"{fig['mean']:7.3f} {ratio:12.1f}x")
        p99 = figures[names[0]]["p99"]
        print(f"target: all-new words p99 < {TARGET_P99_MS} ms ({clock}): {p99:.3f} ms "
              f"({'met' if p99 < TARGET_P99_MS else 'NOT met'}; {p99 / TARGET_P99_MS:.0%} of the budget)")


if __name__ == "__main__":
    main()
