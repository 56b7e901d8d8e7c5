"""Starting up: several nodes migrating one empty PostgreSQL at once, and a disk that is full or in the way.

Before: two nodes starting together on an empty PostgreSQL crashed one of them in migrations
(UniqueViolation); a full or unwritable data directory ended in a raw traceback.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from horde_core.db import Database

ROOT = Path(__file__).resolve().parents[2]


async def test_nodes_migrating_an_empty_database_at_once_all_come_up(db_url: str) -> None:
    nodes = [Database(db_url, pool_size=2) for _ in range(4)]
    try:
        await asyncio.wait_for(asyncio.gather(*(node.migrate() for node in nodes)), timeout=120)
        async with nodes[0].read() as conn:
            head = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        assert head is not None
        await nodes[1].migrate()  # and again, once it is up to date
    finally:
        for node in nodes:
            await node.dispose()


def _start(data_dir: Path, *, file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """`python main.py` with this data directory; with a file size limit of 0 every write fails as on a
    full disk (the kernel answers EFBIG; SIGXFSZ is ignored, as the limit is inherited across exec)."""

    def limit() -> None:
        if file_size_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    env = {k: v for k, v in os.environ.items() if not k.startswith("HORDE_")}
    env.update({"HORDE_CORE__DATA_DIR": str(data_dir), "HORDE_API__PORT": "1", "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, str(ROOT / "main.py")], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=120, preexec_fn=limit)


def test_a_full_disk_at_start_is_explained(tmp_path: Path) -> None:
    done = _start(tmp_path / "data", file_size_limit=0)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert str(tmp_path / "data") in done.stderr and "free" in done.stderr.lower(), done.stderr


def test_an_unwritable_data_dir_at_start_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data directory should be")
    done = _start(blocker / "data")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert str(blocker / "data") in done.stderr and "data_dir" in done.stderr, done.stderr
