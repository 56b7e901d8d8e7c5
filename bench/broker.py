"""Broker throughput benchmark: the horde API under load, next to a bare aiohttp baseline.

Run by hand (`make bench`, or `.venv/bin/python bench/broker.py [--quick] [--postgres]`). The server runs in
its own subprocess (a fresh database in a temp dir, or PostgreSQL); the load comes from this process over
keep-alive aiohttp connections with a fixed number of requests in flight. Figures:

  (a) empty pops/s (nothing queued) beside a bare aiohttp server that only parses the body (same run)
  (b) pop+submit cycles/s with a shallow queue (filled in rounds, never deeper than --round-size)
  (c) the same cycles with 20,000 requests waiting (the pop must not scan the queue)
  (d) requests accepted/s by POST /generate/async, several keys in parallel (it also fills the queue for c)
  (e) non-200 answers to 32 concurrent first pops of one new worker name (empty queue, then a deep one)
  (f) KoboldAI text pop+submit cycles/s, measured like (b) (no target; shown beside (b))

Timings are reported, never asserted: the exit status is 1 only when something errored.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from _infra import (
    AI_HORDE,
    BASELINE_SERVER,
    FULL,
    HOST,
    MAIN,
    QUICK,
    TARGET_ACCEPTED,
    TARGET_CYCLES,
    TARGET_DEEP_RATIO,
    TARGET_POP_RATIO,
    BenchError,
    Errors,
    Phase,
    Server,
    _pg_parts,
    create_user,
    free_port,
    machine_cpu,
    pg_admin,
    server_env,
)
from _load import Load
from _report import _met, cpu_per_request, fmt_rate, fmt_ratio, log, phase_rows, print_profile, rate, table
from _text import text_cycles

# PostgreSQL's targets are ratios to the bare handler measured in the same run (issue 13).
PG_TARGET_CYCLES = 0.03
PG_TARGET_ACCEPTED = 0.07


async def run(args: argparse.Namespace, tmp: Path, servers: list[Server], errors: Errors) -> list[str]:
    sizes = QUICK if args.quick else FULL
    conc = args.concurrency
    notes: list[str] = []
    busy0, total0 = machine_cpu()
    await asyncio.sleep(1.0)
    busy1, total1 = machine_cpu()
    busy_before = rate(busy1 - busy0, total1 - total0)
    log(f"machine {100 * busy_before:.0f}% busy before the run ({os.cpu_count()} CPUs)")
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=conc + 8, limit_per_host=conc + 8, keepalive_timeout=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        load = Load(http, errors, conc)

        # (a) baseline: a bare aiohttp server that parses the body and answers the empty job.
        port = free_port()
        base_srv = Server("baseline", [sys.executable, "-c", BASELINE_SERVER, HOST, str(port)],
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, cwd=tmp, port=port)
        servers.append(base_srv)
        base_srv.start()
        await base_srv.wait_ready(http)
        log(f"baseline server up (pid {base_srv.proc.pid if base_srv.proc else '?'}); "
            f"{sizes.pop_seconds:.0f} s of empty pops, {conc} in flight")
        baseline = Phase("(a) baseline", base_srv.proc.pid if base_srv.proc else None)
        await load.empty_pops(base_srv.base, sizes.warmup_seconds, None, "(a) baseline warm-up")
        n = await load.empty_pops(base_srv.base, sizes.pop_seconds, baseline, "(a) baseline")
        base_rate = rate(n, baseline.wall)
        base_srv.stop()
        log(f"baseline: {fmt_rate(base_rate)}")

        # The horde.
        port = free_port()
        data_dir = tmp / "data"
        env = server_env(data_dir, port, args.database_url or "")
        argv = [sys.executable, str(MAIN)]
        if args.cprofile:
            argv = [sys.executable, "-m", "cProfile", "-o", args.cprofile, str(MAIN)]
        horde = Server("horde", argv, env=env, cwd=tmp, port=port)
        servers.append(horde)
        t = time.perf_counter()
        horde.start()
        await horde.wait_ready(http)
        pid = horde.proc.pid if horde.proc else None
        log(f"horde up in {time.perf_counter() - t:.1f} s (pid {pid}, "
            f"database: {'PostgreSQL' if args.database_url.startswith('postgres') else 'SQLite'})")
        tag = uuid.uuid4().hex[:6]
        keys = await asyncio.gather(create_user(env, tmp, f"bench-gpu-{tag}"),
                                    *(create_user(env, tmp, f"bench-req{i}-{tag}") for i in range(args.keys)))
        load.worker_key, load.request_keys = keys[0], list(keys[1:])
        log(f"created 1 worker user and {args.keys} requester users")

        # (a) empty pops on the horde.
        pops = Phase("(a) horde", pid)
        await load.empty_pops(horde.base, sizes.warmup_seconds, None, "(a) horde warm-up")
        n = await load.empty_pops(horde.base, sizes.pop_seconds, pops, "(a) horde")
        pop_rate = rate(n, pops.wall)
        log(f"(a) empty pops: {fmt_rate(pop_rate)} vs baseline {fmt_rate(base_rate)}")

        # (e) first pops of a new name, empty queue.
        e_empty = await load.first_pops(horde.base, "empty")

        # (b) cycles on a shallow queue, filled in rounds.
        fills_b = Phase("(b) fills", pid)
        shallow = Phase("(b) shallow", pid)
        done_b, empty_b, filled_b = await load.rounds(horde.base, sizes.shallow_cycles, args.round_size,
                                                      sizes.fill_cap_seconds, sizes.cycle_cap_seconds, fills_b,
                                                      shallow, "(b)")
        b_rate = rate(done_b, shallow.wall)
        log(f"(b) {done_b:,} cycles in {shallow.wall:.1f} s: {fmt_rate(b_rate)} "
            f"(queue <= {args.round_size}; {empty_b} empty pops at round ends)")
        if done_b < sizes.shallow_cycles:
            notes.append(f"(b) stopped at the {sizes.cycle_cap_seconds:.0f} s cap after {done_b:,} of "
                         f"{sizes.shallow_cycles:,} cycles")

        # (f) the same with KoboldAI text jobs (text workers, their own names).
        f_rate, fills_f, text = await text_cycles(load, horde.base, sizes, args.round_size, pid, notes)

        # (d) accepted requests/s, filling the deep queue for (c).
        want = sizes.deep_waiting + sizes.deep_cycles
        fill_d = Phase("(d) async", pid)
        log(f"(d) queueing {want:,} requests ({args.keys} keys, {conc} in flight, cap {sizes.fill_cap_seconds:.0f} s)")
        finished = await load.fill(horde.base, want, sizes.fill_cap_seconds, fill_d, "(d) async")
        accepted = len(finished)
        d_rate = rate(accepted, fill_d.wall)
        if accepted >= 8:
            q = accepted // 4
            start = finished[0] - fill_d.latencies["async"][0]
            first = rate(q, finished[q - 1] - start)
            last = rate(q, finished[-1] - finished[-q - 1])
            notes.append(f"(d) accept rate over the first quarter {fmt_rate(first)}, over the last quarter "
                         f"{fmt_rate(last)} (queue 0 -> {accepted:,} waiting)")
        log(f"(d) {accepted:,} accepted in {fill_d.wall:.1f} s: {fmt_rate(d_rate)}")
        deep_cycles = sizes.deep_cycles
        if accepted < want:
            deep_cycles = max(1, min(deep_cycles, accepted // 5))
            notes.append(f"(d) filling stopped at the {sizes.fill_cap_seconds:.0f} s cap: {accepted:,} of {want:,} "
                         "requests queued")
        waiting_start = accepted + max(0, filled_b - done_b)  # (b) may have stopped at its cap mid-round
        if sizes.deep_waiting < FULL.deep_waiting:
            notes.append(f"--quick: (c) aims at {sizes.deep_waiting:,} waiting requests, not {FULL.deep_waiting:,}")

        # (c) the same cycles with the deep queue.
        deep = Phase("(c) deep", pid)
        done_c, _ = await load.cycles(horde.base, deep_cycles, sizes.cycle_cap_seconds, deep, "(c) cycles")
        c_rate = rate(done_c, deep.wall)
        waiting_end = waiting_start - done_c
        log(f"(c) {done_c:,} cycles in {deep.wall:.1f} s with {waiting_start:,} -> {waiting_end:,} waiting: "
            f"{fmt_rate(c_rate)}")
        if done_c < deep_cycles:
            notes.append(f"(c) stopped at the {sizes.cycle_cap_seconds:.0f} s cap after {done_c:,} cycles")
        if waiting_end < sizes.deep_waiting:
            notes.append(f"(c) ran with {waiting_start:,} -> {waiting_end:,} requests waiting, fewer than the "
                         f"{sizes.deep_waiting:,} asked for (filling through the API took too long)")

        # (e) again, with the deep queue (each pop also claims a job).
        e_deep = await load.first_pops(horde.base, "deep")

        # (g) PostgreSQL: the same cycles through two API nodes on the one database, beside one node.
        g_rates: tuple[float, float] | None = None
        if args.database_url.startswith("postgres"):
            g_rates = await _two_nodes(load, horde, args, tmp, servers, sizes, notes)

        code = horde.stop()
        log(f"horde stopped (exit {code})")
        if code not in (0, None):
            errors.add("horde", f"exited with {code}:\n{horde.tail()}")
        for line in horde.tail(200).splitlines():
            if " ERROR " in line or "Traceback" in line:
                errors.add("horde log", line)

    # Report.
    e_bad = [*e_empty[2], *e_deep[2]]
    for label, (_, rows, _) in (("empty queue", e_empty), ("deep queue", e_deep)):
        if rows != 1:
            errors.add(f"(e) {label}", f"{rows} worker rows for the new name (want 1)")
    for bad in e_bad:
        errors.add("(e) first pops", bad)
    e_non200 = len(e_bad)
    rows = [
        ["(a) empty pops/s (nothing queued)", fmt_rate(pop_rate), f"bare aiohttp {fmt_rate(base_rate)}",
         fmt_ratio(rate(pop_rate, base_rate)), f">= {TARGET_POP_RATIO}x",
         _met(rate(pop_rate, base_rate) >= TARGET_POP_RATIO), AI_HORDE["a"]],
        [f"(b) pop+submit cycles/s (<= {args.round_size} waiting)", fmt_rate(b_rate),
         f"target {fmt_rate(TARGET_CYCLES)}", fmt_ratio(rate(b_rate, TARGET_CYCLES)), f">= {TARGET_CYCLES:,.0f}/s",
         _met(b_rate >= TARGET_CYCLES), AI_HORDE["b"]],
        [f"(f) text pop+submit cycles/s (<= {args.round_size} waiting)", fmt_rate(f_rate),
         f"(b) image cycles {fmt_rate(b_rate)}", fmt_ratio(rate(f_rate, b_rate)), "-", "-", AI_HORDE["f"]],
        [f"(c) cycles/s, {waiting_end:,}-{waiting_start:,} waiting", fmt_rate(c_rate), f"(b) {fmt_rate(b_rate)}",
         fmt_ratio(rate(c_rate, b_rate)), f">= {TARGET_DEEP_RATIO}x",
         _met(rate(c_rate, b_rate) >= TARGET_DEEP_RATIO), AI_HORDE["c"]],
        [f"(d) requests accepted/s ({args.keys} keys)", fmt_rate(d_rate), f"target {fmt_rate(TARGET_ACCEPTED)}",
         fmt_ratio(rate(d_rate, TARGET_ACCEPTED)), f">= {TARGET_ACCEPTED:,.0f}/s",
         _met(d_rate >= TARGET_ACCEPTED), AI_HORDE["d"]],
        *([["(b) cycles/s vs bare aiohttp (PostgreSQL)", fmt_rate(b_rate), f"bare aiohttp {fmt_rate(base_rate)}",
             fmt_ratio(rate(b_rate, base_rate)), f">= {PG_TARGET_CYCLES}x",
             _met(rate(b_rate, base_rate) >= PG_TARGET_CYCLES), "-"],
            ["(d) accepted/s vs bare aiohttp (PostgreSQL)", fmt_rate(d_rate), f"bare aiohttp {fmt_rate(base_rate)}",
             fmt_ratio(rate(d_rate, base_rate)), f">= {PG_TARGET_ACCEPTED}x",
             _met(rate(d_rate, base_rate) >= PG_TARGET_ACCEPTED), "-"]] if g_rates else []),
        *([["(g) cycles/s, two API nodes on one database", fmt_rate(g_rates[1]), f"one node {fmt_rate(g_rates[0])}",
            fmt_ratio(rate(g_rates[1], g_rates[0])), "-", "-", "-"]] if g_rates else []),
        ["(e) non-200 of 2x32 first pops of a new name",
         f"{e_non200} ({sum(v for k, v in e_empty[0].items() if k != 200)} empty q, "
         f"{sum(v for k, v in e_deep[0].items() if k != 200)} deep q)", "target 0", "-", "0",
         _met(e_non200 == 0), AI_HORDE["e"]],
    ]
    db = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print()
    print(f"hordebot broker bench ({'quick' if args.quick else 'full'}, {db}, {conc} in flight, "
          f"{os.cpu_count()} CPUs; server and baseline in subprocesses, load from this process)")
    print(table(rows, ["figure", "measured", "baseline / target", "ratio", "target", "met", "AI Horde"]))
    print()
    print("Latencies per phase (CPU: % of one core over the measured windows; machine: % of all cores)")
    phases = [baseline, pops, fills_b, shallow, fills_f, text, fill_d, deep]
    print(table(phase_rows(phases), ["phase", "request", "count", "p50 ms", "p99 ms", "max ms", "server CPU",
                                     "server us/req", "bench CPU", "machine"]))
    base_per, horde_per = cpu_per_request(baseline), cpu_per_request(pops)
    notes.insert(0, f"(a) server CPU per empty pop: horde {1e6 * horde_per:,.0f} us, baseline {1e6 * base_per:,.0f} us "
                    f"(baseline/horde {fmt_ratio(rate(base_per, horde_per))}); both rates share the cores with this "
                    "load generator (bench CPU column), so compare the CPU per request too")
    b_per, c_per = cpu_per_request(shallow), cpu_per_request(deep)
    notes.insert(1, f"(c) server CPU per request {1e6 * c_per:,.0f} us vs (b) {1e6 * b_per:,.0f} us (b/c "
                    f"{fmt_ratio(rate(b_per, c_per))}): steadier than the rate ratio when other processes take CPU")
    f_per = cpu_per_request(text)
    notes.insert(2, f"(f) server CPU per text request {1e6 * f_per:,.0f} us vs (b) image {1e6 * b_per:,.0f} us "
                    f"(b/f {fmt_ratio(rate(b_per, f_per))})")
    if busy_before > 0.2:
        notes.insert(0, f"the machine was already {100 * busy_before:.0f}% busy before the run (other processes): "
                        "figures are noisy")
    if args.cprofile:
        notes.append("profiled run: the server ran under cProfile, which slows it")
    for note in notes:
        print(f"note: {note}")
    return notes



async def _two_nodes(load: Load, horde: Server, args: argparse.Namespace, tmp: Path, servers: list[Server],
                     sizes: Any, notes: list[str]) -> tuple[float, float]:
    """Cycles on the deep queue through one node, then through two (a second `--role api` process on the same
    database, half the workers on each), the same count each: (one node/s, two nodes/s)."""
    port = free_port()
    second = Server("horde-2", [sys.executable, str(MAIN), "--role", "api"],
                    env=server_env(tmp / "data-2", port, args.database_url), cwd=tmp, port=port)
    servers.append(second)
    second.start()
    await second.wait_ready(load.http)
    count = max(50, sizes.deep_cycles // 2)
    one, two = Phase("(g) one node", horde.proc.pid if horde.proc else None), Phase("(g) two nodes", None)
    done_one, _ = await load.cycles(horde.base, count, sizes.cycle_cap_seconds, one, "(g) one node")
    done_two, _ = await load.cycles((horde.base, second.base), count, sizes.cycle_cap_seconds, two, "(g) two nodes")
    second.stop()
    for line in second.tail(200).splitlines():
        if " ERROR " in line or "Traceback" in line:
            load.errors.add("horde-2 log", line)
    one_rate, two_rate = rate(done_one, one.wall), rate(done_two, two.wall)
    log(f"(g) {done_one:,} cycles through one node: {fmt_rate(one_rate)}; {done_two:,} through two: "
        f"{fmt_rate(two_rate)}")
    notes.append(f"(g) two API nodes share this machine's {os.cpu_count()} cores with the database and the load "
                 "generator: the ratio shows the cost of a second node (events, shared limits, another pool), not a "
                 "speed-up; on separate machines the API side scales out while the database is the shared part")
    return one_rate, two_rate


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a ~20 s smoke run with small sizes")
    p.add_argument("--database-url", default="",
                   help="run the horde on this database (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/NAME); "
                        "default: a fresh SQLite file in a temp dir")
    p.add_argument("--postgres", action="store_true",
                   help="create the --database-url database first (default name hordebot_bench_<random> on "
                        "127.0.0.1:5432) and drop it at the end")
    p.add_argument("--concurrency", type=int, default=32, help="requests in flight (and workers); default 32")
    p.add_argument("--keys", type=int, default=4, help="requester users/keys for (d); default 4")
    p.add_argument("--round-size", type=int, default=500, help="(b) queue depth per round; default 500")
    p.add_argument("--cprofile", metavar="FILE", help="run the server under cProfile, write FILE, print the top")
    args = p.parse_args(argv)
    if args.postgres and not args.database_url:
        args.database_url = f"postgresql+asyncpg://postgres@{HOST}:5432/hordebot_bench_{uuid.uuid4().hex[:10]}"
    if args.cprofile:
        args.cprofile = os.path.abspath(args.cprofile)
    if args.concurrency < 1 or args.keys < 1 or args.round_size < 1:
        p.error("--concurrency, --keys and --round-size must be positive")
    return args


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Ctrl-C and `kill` both end the run through the cleanup below (servers stopped, temp dir removed).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    errors = Errors()
    servers: list[Server] = []
    tmp = Path(tempfile.mkdtemp(prefix="hordebot-bench-"))
    created_db = False
    try:
        if args.postgres:
            asyncio.run(pg_admin(args.database_url, "create"))
            created_db = True
            log(f"created database {_pg_parts(args.database_url)['database']}")
        asyncio.run(run(args, tmp, servers, errors))
    except BenchError as exc:
        errors.add("bench", str(exc))
    except KeyboardInterrupt as exc:
        errors.add("bench", f"interrupted ({exc or 'SIGINT'})")
    except Exception as exc:  # report anything else too, after the servers are down
        import traceback

        errors.add("bench", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    finally:
        for srv in servers:
            srv.stop()
        if created_db:
            try:
                asyncio.run(pg_admin(args.database_url, "drop"))
            except Exception as exc:
                errors.add("cleanup", f"could not drop the database: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)
    if args.cprofile:
        print_profile(args.cprofile)
    if errors:
        print("\nERRORS:")
        for key, n in errors.counts.most_common():
            print(f"  {n:>6} x {key}")
        print("samples:")
        for sample in errors.samples:
            print(f"  - {sample}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

