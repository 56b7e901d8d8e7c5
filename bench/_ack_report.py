"""The bot ack bench's printed report: the acknowledgement table and the loop/GC/CPU table for (1), the load's
own request rates, the progress-edits table for (2), and the notes on how to read them.

Apart from the measuring code so that the output's layout can be read (and changed) in one place.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
from typing import Any

from _ack_infra import (
    CHECKS_PER_REQUEST,
    DISCORD_DEADLINE_MS,
    EDIT_INTERVAL,
    EDIT_WORKER_DELAY,
    TARGET_P99_MS,
    WORKER_IDLE_SLEEP,
    Sizes,
    ms,
    pct,
)
from _ack_phases import AckResult, EditsResult


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def report(args: argparse.Namespace, sizes: Sizes, acks: list[AckResult], edits: list[EditsResult],
           load: dict[str, Any], busy_before: float) -> None:
    where = "as tasks in the bot's loop" if args.load_in_process else "from a separate process"
    print()
    print(f"hordebot bot ack bench ({'quick' if args.quick else 'full'}, SQLite, {os.cpu_count()} CPUs; bot, core "
          f"and API in one loop in this process, load {where})")
    print()
    print("(1) /generate acknowledgement: harness dispatches INTERACTION_CREATE -> deferral (type 5) reaches "
          "discord.py's HTTP layer")
    rows = []
    for r in acks:
        d, a = r.dispatch_to_ack, r.arrival_to_ack
        rows.append([r.name, f"{len(d)}", ms(pct(d, 0.5)), ms(pct(d, 0.95)), ms(pct(d, 0.99)),
                     ms(max(d, default=math.nan)), ms(pct(a, 0.5)), ms(pct(a, 0.99)), ms(max(a, default=math.nan))])
    print(table(rows, ["phase", "acks", "p50 ms", "p95 ms", "p99 ms", "max ms", "arrival->ack p50", "p99", "max"]))
    p99 = pct(acks[-1].dispatch_to_ack, 0.99)
    met = "n/a" if math.isnan(p99) else ("yes" if p99 < TARGET_P99_MS / 1000 else "NO")
    print(f"target under load: p99 < {TARGET_P99_MS:.0f} ms (Discord's deadline: {DISCORD_DEADLINE_MS:.0f} ms) "
          f"-> {ms(p99)} ms, met: {met}")
    print()
    print("While measuring (1): the loop, the garbage collector and the CPUs")
    rows = []
    for r in acks:
        rows.append([r.name, f"{r.wall_to_last_result:.1f}", f"{r.max_in_flight}", ms(pct(r.lag, 0.5)),
                     ms(pct(r.lag, 0.99)), ms(max(r.lag, default=math.nan)),
                     f"{len(r.gc_pauses)} / {ms(max(r.gc_pauses, default=math.nan))}", r.cpu.share(r.cpu.bench),
                     r.cpu.share(r.cpu.load), "n/a" if math.isnan(r.cpu.machine) else f"{100 * r.cpu.machine:.0f}%"])
    print(table(rows, ["phase", "window s", "handlers", "loop lag p50 ms", "p99", "max", "full GCs / max ms",
                       "bot CPU", "load CPU", "machine"]))
    print()
    elapsed = load["elapsed"]
    print(f"Load {where} ({args.clients} requester loops over {args.keys} keys: async + {CHECKS_PER_REQUEST} "
          f"checks + cancel; {args.pollers} empty-pop loops), {elapsed:.1f} s including the edits phase:")
    rows = [[kind, f"{k['count']:,}", f"{k['count'] / elapsed:,.0f}/s" if elapsed > 0 else "n/a",
             ms(k["p50"]), ms(k["p99"])] for kind, k in load["kinds"].items()]
    total = sum(k["count"] for k in load["kinds"].values())
    rows.append(["all", f"{total:,}", f"{total / elapsed:,.0f}/s" if elapsed > 0 else "n/a", "", ""])
    print(table(rows, ["request", "count", "rate", "p50 ms", "p99 ms"]))
    print()
    print(f"(2) progress edits per job: edit_interval = poll_interval = {EDIT_INTERVAL} s (default 5 s), "
          f"the fake worker serves each job {EDIT_WORKER_DELAY} s after popping it")
    rows = []
    for e in edits:
        counts = [j.cog_edits for j in e.jobs]
        served = [j.served_in for j in e.jobs]
        cap = [1 + math.floor(j.served_in / EDIT_INTERVAL) for j in e.jobs]
        agree = all(j.cog_edits == j.patches for j in e.jobs)
        rows.append([e.name, f"{len(e.jobs)}", f"{min(counts, default=0)}",
                     f"{statistics.median(counts):g}" if counts else "n/a", f"{max(counts, default=0)}",
                     f"{sum(counts)}", " ".join(str(c) for c in counts),
                     f"{statistics.median(served):.2f}" if served else "n/a",
                     f"{statistics.median(cap):g}" if cap else "n/a", "yes" if agree else "NO"])
    print(table(rows, ["phase", "jobs", "min", "median", "max", "total", "per job", "ack->result s (median)",
                       "interval cap (median)", "cog == PATCHes"]))
    print()
    notes = [
        "dispatch->ack excludes the network: on Discord the gateway delivery and the callback's HTTP round trip "
        "also count against the 3 s deadline",
        "arrival->ack adds the wait from the scheduled arrival until the loop ran the dispatch (like a gateway "
        "event waiting to be read); loop lag: how late a 10 ms sleep wakes up",
        "handlers: most /generate handlers in flight at once (each waits for its image); the idle phase still has "
        f"the bot's own jobs and its fake worker popping every {1000 * WORKER_IDLE_SLEEP:.0f} ms; window: first "
        "arrival to last image posted; CPU: % of one core (bot = this whole process: bot, core, API, SQLite), "
        "machine: % of all cores",
        "full GCs: generation-2 collections during the window; each one stops the loop for its duration",
        "edits: the bot edits the progress message only when its text changes and at most every edit_interval; "
        "'interval cap' = 1 + floor(ack->result / edit_interval), the most the interval alone would allow",
    ]
    if args.quick:
        notes.append(f"--quick: {sizes.interactions} interactions per phase, so p99 is close to the max")
    if busy_before > 0.2:
        notes.insert(0, f"the machine was already {100 * busy_before:.0f}% busy before the run: figures are noisy")
    for note in notes:
        print(f"note: {note}")
