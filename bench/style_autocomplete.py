"""Style autocomplete speed: how long /generate's `style` option takes to answer with 5,000 horde styles, beside
no styles at all.

Run by hand: `.venv/bin/python bench/style_autocomplete.py [--quick]` (about 15 s; `--quick` about 5 s).

The real bot through the test harness (`tests/bot/harness.py`: dpytest and discord.py's real CommandTree, HTTP
captured) and the real core on a fresh SQLite file, in one event loop as in production. Discord sends an
autocomplete interaction on every keystroke and drops the answer after 3 s.

Two runs in the same process, the same typed queries in both:
  empty  the horde has no styles (only the guild's curated list, 5 names, is offered);
  full   the horde has 5,000 public image styles (a few hundred NSFW, hidden in the bench's SFW channel) with
         random use counts, searched by name prefix, the most used first.
Each query is a member typing 0-8 characters of a real-looking style name, or a miss. Measured: dispatch of
INTERACTION_CREATE -> the autocomplete answer (callback type 8) reaching discord.py's HTTP layer, and the core's
`search_styles` alone. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from pathlib import Path

sys.dont_write_bytecode = True
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _ack_infra import pct  # noqa: E402
from _ack_world import bot_on_fresh_core  # noqa: E402
from catalogue_autocomplete import STYLE_WORDS, _word  # noqa: E402


def styles(rng: random.Random, count: int, user_id: int) -> list[dict[str, object]]:
    rows = []
    for i in range(count):
        rows.append({"id": str(uuid.uuid4()), "kind": "image", "name": f"{rng.choice(STYLE_WORDS)} {_word(rng)} {i}",
                     "info": "", "prompt": "{p}, " + rng.choice(STYLE_WORDS) + "###{np}", "params": {"steps": 20},
                     "public": True, "nsfw": rng.random() < 0.05, "use_count": rng.randint(0, 10_000),
                     "user_id": user_id, "created_at": 0.0, "updated_at": 0.0})
    return rows


async def run(args: argparse.Namespace) -> None:
    from horde_core.styles import repo as styles_repo

    rng = random.Random(16)
    count = 1000 if args.quick else 5000
    rounds = 200 if args.quick else 1000
    async with bot_on_fresh_core() as (db, service, h):
        maker, _ = await service.create_user("stylist")
        rows = styles(rng, count, maker.id)
        names = [str(r["name"]) for r in rows]
        typed = [rng.choice([rng.choice(names), _word(rng)])[: rng.randint(0, 8)] for _ in range(rounds)]
        await service.update_community_settings(f"discord:guild:{h.guild.id}",
                                                {"styles": names[:5]}, "bench")
        results: dict[str, dict[str, list[float]]] = {}
        for phase in ("empty", "full"):
            if phase == "full":
                async with db.transaction() as conn:
                    for row in rows:
                        await styles_repo.insert_style(conn, row, ["stable_diffusion"], [])
            core: list[float] = []
            bot: list[float] = []
            answered = 0
            for text in typed:
                started = time.perf_counter()
                await service.search_styles(text, 25)
                core.append(time.perf_counter() - started)
                answered += bool(await h.autocomplete("generate", "style", text, options={"prompt": "a castle"},
                                                      user=h.member(1)))
                token = next(reversed(h.dispatched))
                if token in h.acked:
                    bot.append(h.acked[token][0] - h.dispatched[token])
            results[phase] = {"bot": bot, "core": core}
            print(f"{phase}: {rounds} keystrokes, answered with choices: {answered}", file=sys.stderr)
        print(f"\nStyle autocomplete, {rounds} keystrokes per run; full run: {count:,} public image styles.\n")
        print(f"{'ms':<48}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
        for label, name in (("bot", "/generate style (dispatch -> answer)"), ("core", "core search alone")):
            for phase in ("empty", "full"):
                v = results[phase][label]
                print(f"{name + ', ' + phase:<48}" + "".join(f"{1000 * pct(v, q):>8.2f}"
                                                            for q in (0.5, 0.95, 0.99, 1.0)))
        ratio = pct(results["full"]["bot"], 0.99) / pct(results["empty"]["bot"], 0.99)
        print(f"\np99 full / empty, /generate style: {ratio:.2f}x; Discord's deadline is 3,000 ms.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 styles, 200 keystrokes")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
