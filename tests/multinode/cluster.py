"""Several real nodes for the multi-node test: `python main.py --role ...` processes on one fresh PostgreSQL
database and one S3 bucket (SeaweedFS), each with its own port and data directory, as an operator runs them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    """One process; its output goes to a log file (and, for the bot node, JSON lines to `messages`)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path, *, talk: bool = False) -> None:
        self.name, self.log_path = name, log
        self.port = int(env.get("HORDE_API__PORT", "0"))
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, env=env, cwd=str(ROOT), stdin=subprocess.PIPE if talk else None,
                                     stdout=subprocess.PIPE if talk else self._log, stderr=self._log)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self._asked = False
        if talk:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError):
                self.messages.put(json.loads(line))

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    async def expect(self, event: str, within: float = 60.0, **match: Any) -> dict[str, Any]:
        """The next message of this kind (and these fields) from the node, skipping others."""
        deadline = time.monotonic() + within
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name} sent no {event} {match} within {within} s:\n{self.output()}")
            try:
                message = await asyncio.to_thread(self.messages.get, True, min(left, 1.0))
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited:\n{self.output()}") from None
                continue
            if message.get("event") == event and all(message.get(k) == v for k, v in match.items()):
                return message

    async def wait_ready(self) -> None:
        """Up when its heartbeat answers (bounded; fails early if the process died)."""
        deadline = time.monotonic() + READY_TIMEOUT
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.output()}")
                try:
                    async with http.get(f"{self.url}/api/v2/status/heartbeat") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)  # polling a starting process, bounded by the deadline
        raise AssertionError(f"{self.name} did not come up:\n{self.output()}")

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-6000:]

    def ask_to_stop(self) -> None:
        """SIGTERM (a bot node: quit), once, without waiting: nodes stop side by side. (A second SIGTERM could
        land after the node put the default handler back on its way out, and kill it.)"""
        if self.proc.poll() is None and not self._asked:
            self._asked = True
            if self.proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self.send({"cmd": "quit"})
            else:
                self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> int:
        self.ask_to_stop()
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
        return int(self.proc.returncode)


class Cluster:
    def __init__(self, tmp: Path, db_url: str, s3: Any, bucket: str) -> None:
        self.tmp, self.db_url = tmp, db_url
        self.s3, self.bucket = s3, bucket
        self.nodes: dict[str, Node] = {}

    def env(self, name: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HORDE_", "AWS_"))}
        env.update(
            HORDE_CORE__DATABASE_URL=self.db_url, HORDE_CORE__DATA_DIR=str(self.tmp / name),
            HORDE_API__HOST="127.0.0.1", HORDE_API__PORT=str(free_port()),
            HORDE_API__REQUESTS_PER_SECOND="1000", HORDE_API__REQUEST_BURST="1000",
            HORDE_CORE__IMAGE_STORE="s3", HORDE_S3__ENDPOINT_URL=self.s3.endpoint, HORDE_S3__BUCKET=self.bucket,
            HORDE_S3__ACCESS_KEY=self.s3.access_key, HORDE_S3__SECRET_KEY=self.s3.secret_key,
            PYTHONUNBUFFERED="1", **extra)
        return env

    def start_api(self, name: str, role: str = "api") -> Node:
        node = Node(name, [sys.executable, str(ROOT / "main.py"), "--role", role], self.env(name),
                    self.tmp / f"{name}.log")
        self.nodes[name] = node
        return node

    def start_bot(self, name: str) -> Node:
        node = Node(name, [sys.executable, "-m", "tests.multinode.bot_node"], self.env(name),
                    self.tmp / f"{name}.log", talk=True)
        self.nodes[name] = node
        return node

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], env=self.env("cli"),
                              capture_output=True, text=True, timeout=60, cwd=str(ROOT))

    def stop(self) -> dict[str, int]:
        for node in self.nodes.values():
            node.ask_to_stop()
        return {name: node.stop() for name, node in self.nodes.items()}
