"""Events across processes: PostgreSQL LISTEN/NOTIFY under the same interface as the in-process bus.

`publish` runs this process's handlers at once (as the in-process bus does) and queues the event for the other
nodes; one sender connection sends queued events in batches (one NOTIFY carries many), one listener connection
receives the other nodes' batches and runs this process's handlers. A node skips its own batches.

Publishers call `publish` after their transaction committed, so a node woken by an event reads committed rows.
If the listener's connection drops, events may have been missed: the bus reconnects and delivers `RESYNC`
locally, and the caches forget everything (they re-read; nothing else depends on an event arriving: the bot
also polls slowly, and deliveries are recorded in the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from sqlalchemy.engine import make_url

from horde_core.events import RESYNC, EventBus

log = logging.getLogger(__name__)

CHANNEL = "hordebot_events"
MAX_PAYLOAD = 7000  # PostgreSQL refuses NOTIFY payloads of 8000 bytes and more
KEEPALIVE = 15.0


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL (`postgresql+asyncpg://...`) as a DSN asyncpg understands."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgEventBus(EventBus):
    def __init__(self, database_url: str, *, channel: str = CHANNEL, retry_delay: float = 1.0) -> None:
        super().__init__()
        self.node = uuid.uuid4().hex[:16]
        self.channel = channel
        self._dsn = asyncpg_dsn(database_url)
        self._retry = retry_delay
        self._outbox: list[str] = []
        self._wake = asyncio.Event()
        self._sent = asyncio.Event()  # set while nothing waits to be sent
        self._sent.set()
        self._sender: Any = None
        self._listener: Any = None
        self._tasks_running: list[asyncio.Task[None]] = []
        self._closing = False
        self._lost = asyncio.Event()
        self.connected = asyncio.Event()

    # --- publishing -------------------------------------------------------------------------------

    def publish(self, name: str, payload: dict[str, Any]) -> None:
        self.deliver(name, payload)
        event = json.dumps([name, payload], separators=(",", ":"), default=str)
        if len(event) > MAX_PAYLOAD - 64:
            log.error("event %s is too large to cross nodes (%d bytes); delivered on this node only", name,
                      len(event))
            return
        self._outbox.append(event)
        self._sent.clear()
        self._wake.set()

    async def flush(self) -> None:
        """Wait until every event published so far has been handed to PostgreSQL."""
        if not self._closing:
            await self._sent.wait()

    def _batch(self) -> str:
        taken: list[str] = []
        size = 0
        while self._outbox and size + len(self._outbox[0]) + 1 < MAX_PAYLOAD - 40:
            event = self._outbox.pop(0)
            taken.append(event)
            size += len(event) + 1
        return f'{{"o":"{self.node}","e":[{",".join(taken)}]}}'

    async def _send_loop(self) -> None:
        import asyncpg

        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox:
                batch = self._batch()
                for attempt in range(3):
                    try:
                        if self._sender is None or self._sender.is_closed():
                            self._sender = await asyncpg.connect(self._dsn)
                        await self._sender.execute("SELECT pg_notify($1, $2)", self.channel, batch)
                        break
                    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                        log.warning("could not send events to other nodes (try %d): %s", attempt + 1, exc)
                        self._sender = None
                        await asyncio.sleep(self._retry)
            if not self._outbox:
                self._sent.set()

    # --- listening --------------------------------------------------------------------------------

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("ignored a malformed event batch")
            return
        if message.get("o") == self.node:
            return
        for name, data in message.get("e", []):
            self.deliver(name, data, remote=True)

    def _on_lost(self, _conn: Any) -> None:
        self.connected.clear()
        self._lost.set()

    async def _listen(self) -> None:
        import asyncpg

        self._listener = await asyncpg.connect(self._dsn)
        self._listener.add_termination_listener(self._on_lost)
        await self._listener.add_listener(self.channel, self._on_notify)
        self._lost.clear()
        self.connected.set()

    async def _watch(self) -> None:
        """Keep the listener alive: ping it now and then, and when it is gone reconnect and resync the caches."""
        import asyncpg

        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), timeout=KEEPALIVE)
            if self._closing:
                return
            if not self._lost.is_set():
                try:
                    await asyncio.wait_for(self._listener.execute("SELECT 1"), timeout=KEEPALIVE)
                    continue
                except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    pass
            self.connected.clear()
            with contextlib.suppress(Exception):
                self._listener.terminate()
            try:
                await self._listen()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("event listener cannot reconnect yet: %s", exc)
                self._lost.set()
                await asyncio.sleep(self._retry)
                continue
            log.info("event listener reconnected; caches resync")
            self.deliver(RESYNC, {})

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._listen()
        self._tasks_running = [asyncio.create_task(self._send_loop()), asyncio.create_task(self._watch())]

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), timeout=5.0)
        self._closing = True
        self._lost.set()
        self._wake.set()
        self._sent.set()
        for task in self._tasks_running:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for conn in (self._listener, self._sender):
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2.0)
