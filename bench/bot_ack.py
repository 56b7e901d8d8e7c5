"""Discord bot benchmark: how fast /generate is acknowledged while the core is busy, and how often it edits progress.

Run by hand: `.venv/bin/python bench/bot_ack.py [--quick]` (about 40 s; `--quick` about 15 s).

Everything runs as in production, in ONE event loop: the real bot (`bot.create_bot` with all its extensions, driven
through the test harness `tests/bot/harness.py`: dpytest + discord.py's real CommandTree, HTTP captured), the real core
(`HordeService` on a fresh SQLite file in a temp dir) and the real HTTP API (aiohttp `TestServer` on 127.0.0.1).
A fake GPU worker task in the same loop serves the bot's jobs over HTTP (pop, upload, submit).

(1) Acknowledgement latency: N /generate interactions arrive at random (Poisson) times; for each one the bench
    takes the time from the harness dispatching INTERACTION_CREATE to the deferral (callback type 5) reaching
    discord.py's HTTP layer (`AsyncWebhookAdapter.request`). The command handler itself runs until the image is
    posted, so the moment `h.slash` returns is NOT used. Measured twice in the same run: with the core idle (only
    the bot's own worker polling) and with the core under load.
(2) Progress edits per job: a few /generate jobs that the fake worker takes EDIT_WORKER_DELAY seconds to serve,
    with the edit/poll intervals shortened so edits can happen; counts from `bot.deliveries.edits` (checked
    against the PATCHes the harness captured).

Load: by default a separate process (this file with `--load-generator`) hammers the API with keep-alive aiohttp
connections: requester loops (POST /generate/async for a model nobody serves, GET /generate/check twice, DELETE
/generate/status to cancel: the queue stays shallow) and worker loops (POST /generate/pop for a model nobody
requests: every pop is empty). A separate process so the client side does not run in the bot's loop: the loop
then carries only what the server really does for that traffic. `--load-in-process` runs the same loops as
tasks in the bot's loop instead, for comparison (the client work then adds to the loop's latency).

Timings are reported, never asserted: the exit status is 1 only when something errored.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True  # leave no __pycache__ behind in the repository (set before the siblings load)

# The siblings below are this bench's private modules (`python bench/bot_ack.py` puts bench/ on sys.path):
#   _ack_infra   sizes, knobs, errors, percentiles, CPU accounting (shared with the load generator process)
#   _ack_load    the load: run_load, the --load-generator process, LoadGenerator (subprocess or in-process)
#   _ack_world   the core, API and bot in this loop (open_world), the fake GPU worker, loop-lag and GC probes
#   _ack_phases  the measurements: acknowledgement latency and progress edits per job
#   _ack_report  the printed tables and notes
from _ack_infra import FULL, QUICK, BenchError, Errors, Sizes, log, machine_cpu, ms, pct  # noqa: E402
from _ack_load import LoadGenerator, load_generator_main  # noqa: E402
from _ack_phases import Bench  # noqa: E402
from _ack_report import report  # noqa: E402
from _ack_world import DelayedWorker, GcWatch, LagProbe, open_world  # noqa: E402


async def run(args: argparse.Namespace, sizes: Sizes, tmp: Path, errors: Errors) -> None:
    """One whole run: measure how busy the machine already is, build the world, then each phase idle and under
    load, and print the report. Everything started here is stopped here, in reverse order, even on errors."""
    busy0, total0 = machine_cpu()
    await asyncio.sleep(0.5)
    busy1, total1 = machine_cpu()
    busy_before = (busy1 - busy0) / (total1 - total0) if total1 > total0 else math.nan
    log(f"machine {100 * busy_before:.0f}% busy before the run ({os.cpu_count()} CPUs)")

    stop = asyncio.Event()
    background: list[asyncio.Task[None]] = []
    load = None
    gcw = GcWatch()
    gcw.install()
    try:
        async with open_world(tmp) as world:
            try:
                service, base, h = world.service, world.base, world.h
                _, gpu_key = await service.create_user("bench-gpu")
                worker = DelayedWorker(base, gpu_key, errors)
                probe = LagProbe()
                background += [asyncio.create_task(worker.run(stop)), asyncio.create_task(probe.run(stop))]
                await asyncio.wait_for(worker.first_pop.wait(), timeout=10)
                _, load_gpu_key = await service.create_user("bench-load-gpu")
                load_keys = [(await service.create_user(f"bench-load-{i}", kudos=1_000_000_000,
                                                        concurrency=10_000_000))[1] for i in range(args.keys)]
                spec = {"base": base, "request_keys": load_keys, "worker_key": load_gpu_key, "clients": args.clients,
                        "pollers": args.pollers, "max_seconds": sizes.cap + 10}
                bench = Bench(h, world.cog, worker, probe, gcw, errors)
                log(f"bot, core and API up ({base}); {sizes.interactions} /generate per phase at "
                    f"~{sizes.arrivals_per_second:.0f}/s (Poisson arrivals)")

                # warm-up: first calls import and cache things that would otherwise land on the first measurements
                for _ in range(3):
                    await bench.generate("warm-up", max_wait=30.0)

                idle = await bench.ack_phase("idle core", sizes, None)
                log(f"idle core: {len(idle.dispatch_to_ack)} acks, p99 {ms(pct(idle.dispatch_to_ack, 0.99))} ms")
                idle_edits = await bench.edits_phase("idle core", sizes)
                log(f"idle core: {len(idle_edits.jobs)} jobs with progress edits")

                where = "in this process's loop" if args.load_in_process else "a subprocess"
                load = LoadGenerator(spec, in_process=args.load_in_process, tmp=tmp)
                await load.start()
                log(f"load running ({where}: {args.clients} requester + {args.pollers} empty-pop loops); "
                    f"{sizes.warmup:.1f} s warm-up")
                await asyncio.sleep(sizes.warmup)
                loaded = await bench.ack_phase("core under load", sizes, load.pid)
                log(f"under load: {len(loaded.dispatch_to_ack)} acks, "
                    f"p99 {ms(pct(loaded.dispatch_to_ack, 0.99))} ms")
                loaded_edits = await bench.edits_phase("core under load", sizes)
                log(f"under load: {len(loaded_edits.jobs)} jobs with progress edits")
                load_stats = await load.stop()
                load = None
                for what, n in load_stats["errors"].items():
                    for _ in range(min(n, 3)):
                        errors.add("load", f"{what} (x{n})")
                for err in h.background_errors:
                    errors.add("bot (background)", repr(err))

                report(args, sizes, [idle, loaded], [idle_edits, loaded_edits], load_stats, busy_before)
            finally:
                stop.set()
                if load is not None:
                    await load.kill()
                if background:
                    await asyncio.wait(background, timeout=10)
                    for task in background:
                        if not task.done():
                            task.cancel()
                        elif not task.cancelled() and task.exception() is not None:
                            errors.add("background task", repr(task.exception()))
    finally:
        gcw.remove()


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a ~15 s smoke run with fewer interactions")
    p.add_argument("--interactions", type=int, default=0, help="/generate interactions per phase (default 300, "
                                                               "60 with --quick)")
    p.add_argument("--clients", type=int, default=16, help="requester loops of the load (default 16)")
    p.add_argument("--pollers", type=int, default=8, help="empty-pop loops of the load (default 8)")
    p.add_argument("--keys", type=int, default=4, help="requester users/keys of the load (default 4)")
    p.add_argument("--load-in-process", action="store_true",
                   help="run the load as tasks in the bot's own loop instead of a separate process")
    p.add_argument("--load-generator", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if min(args.clients, args.keys) < 1 or args.pollers < 0 or args.interactions < 0:
        p.error("--clients and --keys must be positive, --pollers and --interactions not negative")
    return args


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.load_generator:
        return load_generator_main()
    sizes = QUICK if args.quick else FULL
    if args.interactions:
        sizes = Sizes(args.interactions, sizes.arrivals_per_second, sizes.edit_jobs, sizes.warmup,
                      sizes.cap + 3 * args.interactions / sizes.arrivals_per_second)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    errors = Errors()
    tmp = Path(tempfile.mkdtemp(prefix="hordebot-bench-bot-"))
    started = time.perf_counter()

    async def bounded() -> None:
        try:
            await asyncio.wait_for(run(args, sizes, tmp, errors), timeout=sizes.cap)
        except TimeoutError:
            raise BenchError(f"the run did not finish within its {sizes.cap:.0f} s cap") from None

    try:
        asyncio.run(bounded())
    except BenchError as exc:
        errors.add("bench", str(exc))
    except KeyboardInterrupt as exc:
        errors.add("bench", f"interrupted ({exc or 'SIGINT'})")
    except Exception as exc:
        import traceback

        errors.add("bench", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"done in {time.perf_counter() - started:.0f} s")
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
