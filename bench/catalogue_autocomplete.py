"""LoRA autocomplete speed: how long /catalogue's and /generate's autocompletes take with a big catalogue, beside an
empty one.

Run by hand: `.venv/bin/python bench/catalogue_autocomplete.py [--quick]` (about 30 s; `--quick` about 10 s).

The real bot (all its extensions) through the test harness (`tests/bot/harness.py`: dpytest and discord.py's real
CommandTree, HTTP captured) and the real core on a fresh SQLite file, in one event loop as in production. Discord
sends an autocomplete interaction on every keystroke and drops the answer after 3 s.

Two runs in the same process, the same typed queries in both:
  empty  the guild added nothing: only the shipped catalogue (a few dozen entries) is searched;
  full   the guild added 5,000 LoRAs and 5,000 style-like entries (long names, several trigger words, kept as the
         other kind, textual inversions, so both kinds are big), searched the same way.
Each query is a member typing: prefixes of real-looking names and trigger words, 1-8 characters, and some
misses, typed into `/catalogue name` and into `/generate`'s `lora`/`ti` option (after no model, an SD 1.5 or an SDXL
model: the choices are then limited to that model's family). Measured: dispatch of INTERACTION_CREATE -> the
autocomplete answer (callback type 8) reaching discord.py's HTTP layer (what Discord waits for, less the network),
and the core's search alone. Also the one-off cost of
building the full guild's index (on the first keystroke after a change; again at most every
`core.catalogue_refresh_seconds` when another node changed it). Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _ack_infra import pct  # noqa: E402
from _ack_world import bot_on_fresh_core  # noqa: E402

SYLLABLES = ("ka", "ri", "mo", "zen", "lux", "vel", "dra", "gon", "pix", "el", "art", "neo", "noir", "sol", "ar",
             "punk", "glow", "rune", "mist", "ink", "chro", "ma", "tech", "wood", "cut", "aqua", "fire", "ice")
STYLE_WORDS = ("cinematic", "watercolor", "photograph", "anime", "oil painting", "sketch", "neon", "vintage",
               "isometric", "low poly", "studio lighting", "bokeh", "ukiyo-e", "art deco", "baroque", "pastel")
FAMILIES = ("sd1.5", "sdxl", "flux", "sd2")


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def entries(rng: random.Random, count: int) -> tuple[list[Any], list[Any]]:
    """`count` LoRAs and `count` style-like entries with unique names."""
    from horde_core.catalogue import Entry

    loras, styles, seen = [], [], set()
    while len(loras) < count:
        name = f"{_word(rng).title()} {_word(rng).title()}"[:100]
        if ("lora", name.casefold()) in seen:
            continue
        seen.add(("lora", name.casefold()))
        loras.append(Entry("lora", name, str(100_000 + len(loras)), (f"{_word(rng)}_style", _word(rng)),
                           rng.choice(FAMILIES), round(rng.uniform(10, 800), 1), community=True))
    while len(styles) < count:
        name = f"{rng.choice(STYLE_WORDS).title()} {_word(rng).title()} {len(styles)}"[:100]
        seen.add(("ti", name.casefold()))
        triggers = tuple(rng.sample(STYLE_WORDS, 4))
        styles.append(Entry("ti", name, str(900_000 + len(styles)), triggers, rng.choice(FAMILIES), None,
                            community=True))
    return loras, styles


def queries(rng: random.Random, pool: list[Any], count: int) -> list[tuple[str, str]]:
    """(kind, what the member has typed so far)."""
    out = []
    for _ in range(count):
        entry = rng.choice(pool)
        source = rng.choice([entry.name, *entry.triggers, _word(rng)])  # a name, a trigger word, or a miss
        out.append((entry.kind, source[: rng.randint(1, 8)].lower()))
    return out


async def run(args: argparse.Namespace) -> None:
    from horde_core.catalogue import repo as catalogue_repo

    rng = random.Random(17)
    count = 1000 if args.quick else 5000
    rounds = 200 if args.quick else 1000
    async with bot_on_fresh_core() as (db, service, h):
        loras, styles = entries(rng, count)
        typed = queries(rng, loras + styles, rounds)
        community = f"discord:guild:{h.guild.id}"
        results: dict[str, dict[str, list[float]]] = {}
        models = [None, "stable_diffusion", "SDXL 1.0"]  # /generate: no model yet, or one that filters

        async def catalogue(kind: str, text: str) -> Any:
            return await h.autocomplete("catalogue", "name", text, options={"kind": kind}, user=h.member(1))

        async def generate(kind: str, text: str) -> Any:  # the lora / ti option, after a model (or none)
            options = {"prompt": "a castle"}
            model = rng.choice(models)
            if model:
                options["model"] = model
            return await h.autocomplete("generate", kind, text, options=options, user=h.member(1))

        probes = {"/catalogue name": catalogue, "/generate lora|ti": generate}
        for phase in ("empty", "full"):
            if phase == "full":
                async with db.transaction() as conn:
                    await catalogue_repo.add_many(conn, community, loras + styles, "bench", 0.0)
                service.catalogue_indexes.forget(community)
                started = time.perf_counter()
                await service.catalogue_search(community, "lora", "")
                build = time.perf_counter() - started
            core_times: list[float] = []
            bot_times: dict[str, list[float]] = {label: [] for label in probes}
            answered = dict.fromkeys(probes, 0)
            for kind, text in typed:
                started = time.perf_counter()
                await service.catalogue_search(community, kind, text)
                core_times.append(time.perf_counter() - started)
                for label, probe in probes.items():
                    answered[label] += bool(await probe(kind, text))
                    token = next(reversed(h.dispatched))
                    if token in h.acked:
                        bot_times[label].append(h.acked[token][0] - h.dispatched[token])
            results[phase] = {"core": core_times, **bot_times}
            print(f"{phase}: {rounds} keystrokes per probe, answered with choices: {answered}", file=sys.stderr)
        print(f"\nLoRA autocomplete, {rounds} keystrokes per run and probe; full run: {count:,} LoRAs "
              f"+ {count:,} style-like entries in the guild's catalogue (shipped: "
              f"{len(service.catalogue_indexes.shipped)}).")
        print(f"Index build for the full guild (first keystroke after a change): {1000 * build:.1f} ms\n")
        print(f"{'ms':<48}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
        for label in (*probes, "core"):
            for phase in ("empty", "full"):
                v = results[phase][label]
                name = f"{label} (dispatch -> answer)" if label in probes else "core search alone"
                print(f"{name + ', ' + phase:<48}" + "".join(
                    f"{1000 * pct(v, q):>8.2f}" for q in (0.5, 0.95, 0.99, 1.0)))
        for label in probes:
            ratio = pct(results["full"][label], 0.99) / pct(results["empty"][label], 0.99)
            print(f"\np99 full / empty, {label}: {ratio:.2f}x; Discord's deadline is 3,000 ms.", end="")
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 + 1,000 entries, 200 keystrokes")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
