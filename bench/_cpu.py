"""CPU accounting from /proc, shared by the benchmarks: a process's CPU seconds and the machine's jiffies."""

from __future__ import annotations

import math
import os


def proc_cpu(pid: int | None) -> float:
    """CPU seconds (user + system, all threads) of a live process, from /proc."""
    if pid is None:
        return math.nan
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return math.nan


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    try:
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return float(sum(values) - idle), float(sum(values))
    except (OSError, ValueError, IndexError):
        return math.nan, math.nan
