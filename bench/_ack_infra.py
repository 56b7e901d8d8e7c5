"""Plumbing shared by the bot ack bench (`bot_ack.py`): its knobs and sizes, error collection, percentiles, CPU use.

Kept apart from the rest because both processes need it: the bench itself and the load generator it re-executes
(`bot_ack.py --load-generator`), which must stay light (standard library only here, no discord.py, no core).
The broker bench has its own `_infra.py`; this one is separate so that the two benches can change independently.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass

from _cpu import machine_cpu, proc_cpu

HOST = "127.0.0.1"
AGENT = "hordebot-bench:1:local"
MODEL = "stable_diffusion"  # the bot's jobs; served by the fake worker
LOAD_MODEL = "bench_unserved_model"  # what the load asks for; nobody serves it, requests wait until cancelled
IDLE_MODEL = "bench_idle_model"  # what the load's workers serve; nobody asks for it, every pop is empty

DISCORD_DEADLINE_MS = 3000.0
TARGET_P99_MS = 100.0
EDIT_INTERVAL = 0.5  # the cog's default is 5 s
EDIT_WORKER_DELAY = 2.0
WORKER_IDLE_SLEEP = 0.05  # the fake worker pops 20 times a second when there is nothing to do
CHECKS_PER_REQUEST = 2


@dataclass(frozen=True)
class Sizes:
    interactions: int
    arrivals_per_second: float
    edit_jobs: int
    warmup: float
    cap: float  # the whole run is cancelled (and reported as an error) after this many seconds


FULL = Sizes(interactions=300, arrivals_per_second=30.0, edit_jobs=8, warmup=2.0, cap=110.0)
QUICK = Sizes(interactions=60, arrivals_per_second=30.0, edit_jobs=3, warmup=0.7, cap=27.0)


class BenchError(Exception):
    pass


class Errors:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.samples: list[str] = []

    def add(self, where: str, what: str) -> None:
        key = f"{where}: {what.splitlines()[0][:100] if what else ''}"
        self.counts[key] += 1
        if self.counts[key] <= 3 and len(self.samples) < 40:
            self.samples.append(f"{where}: {what if len(what) <= 3000 else '...' + what[-3000:]}")

    def __bool__(self) -> bool:
        return bool(self.counts)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- numbers ---------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{1000 * seconds:.1f}"


@dataclass
class CpuWindow:
    """CPU use of this process, of the load process and of the machine over one measured window."""

    load_pid: int | None = None
    wall: float = 0.0
    bench: float = 0.0
    load: float = math.nan
    machine: float = math.nan
    _mark: tuple[float, float, float, float, float] = (0.0, 0.0, 0.0, 0.0, 0.0)

    def begin(self) -> None:
        busy, total = machine_cpu()
        self._mark = (time.perf_counter(), time.process_time(), proc_cpu(self.load_pid), busy, total)

    def end(self) -> None:
        t0, b0, l0, busy0, total0 = self._mark
        busy, total = machine_cpu()
        self.wall = time.perf_counter() - t0
        self.bench = time.process_time() - b0
        self.load = proc_cpu(self.load_pid) - l0
        self.machine = (busy - busy0) / (total - total0) if total > total0 else math.nan

    def share(self, seconds: float) -> str:
        return "n/a" if math.isnan(seconds) or self.wall <= 0 else f"{100 * seconds / self.wall:.0f}%"
