"""What every command group shares: how it is handed the core, and how it reports a refusal."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from horde_core.service import HordeService

# main.py's `core()`: opens the migrated core (database, image store, the node's parts) and closes it on exit,
# flushing events still queued for the other nodes (a changed key or role reaches their caches).
OpenCore = Callable[[], AbstractAsyncContextManager[HordeService]]


def fail(message: str) -> int:
    """An operator's mistake: one line on stderr and exit status 2, as argparse does."""
    print(f"error: {message}", file=sys.stderr)
    return 2
