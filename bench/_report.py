"""Bench output: rates, percentiles and tables."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

from _infra import Phase


def pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def rate(n: float, seconds: float) -> float:
    return n / seconds if seconds > 0 else math.nan


def fmt_rate(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:,.0f}/s"


def fmt_ratio(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.2f}x"


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def _share(seconds: float, wall: float) -> str:
    return "n/a" if math.isnan(seconds) or wall <= 0 else f"{100 * seconds / wall:.0f}%"


def cpu_per_request(ph: Phase) -> float:
    """Server CPU seconds per answered request of the phase."""
    n = sum(len(v) for v in ph.latencies.values())
    return ph.server_cpu / n if n else math.nan


def phase_rows(phases: list[Phase]) -> list[list[str]]:
    rows = []
    for ph in phases:
        per = cpu_per_request(ph)
        for label, lat in ph.latencies.items():
            machine = ("n/a" if not ph.machine_total or math.isnan(ph.machine_total)
                       else f"{100 * ph.machine_busy / ph.machine_total:.0f}%")
            rows.append([ph.name, label, f"{len(lat):,}", f"{1000 * pct(lat, 0.5):.1f}",
                         f"{1000 * pct(lat, 0.99):.1f}", f"{1000 * max(lat, default=math.nan):.1f}",
                         _share(ph.server_cpu, ph.wall), "n/a" if math.isnan(per) else f"{1e6 * per:,.0f}",
                         _share(ph.bench_cpu, ph.wall), machine])
    return rows


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- the run ---------------------------------------------------------------------------------------



def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def print_profile(path: str, top: int = 35) -> None:
    import pstats

    if not Path(path).exists():
        print(f"no profile written at {path}")
        return
    for key in ("tottime", "cumulative"):
        print(f"\nserver profile, top {top} by {key} (main thread only; SQLite work runs in aiosqlite threads):")
        stats = pstats.Stats(path, stream=sys.stdout)
        stats.sort_stats(key).print_stats(top)


