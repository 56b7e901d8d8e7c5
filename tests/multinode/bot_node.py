"""A bot-role node for the multi-node test, run as its own process: `python -m tests.multinode.bot_node`.

The core side is exactly what `python main.py --role bot` builds (`main.open_service`: the migrated PostgreSQL
database, the S3 store, the shared parts with the LISTEN/NOTIFY bus). The Discord side is the test harness
(tests/bot/harness.py: real discord.py objects, a labelled fake Discord) instead of a gateway connection.
The courier's slow poll (and sweep) is stretched to a minute, so a result can only arrive in time through the
event.

Protocol: one JSON object per line. Out (stdout): {"event": "ready"}, {"event": "job_finished", "request_id",
"at"} whenever the bus delivers one, {"event": "delivered", "at", "files": [sizes], "content"} after a
/generate finished. In (stdin): {"cmd": "generate", "prompt", "model"}, {"cmd": "quit"}.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Any

from bot import create_bot
from horde_core.config import load_config
from main import close_service, open_service
from tests.bot.harness import make_bot

SLOW_POLL = 60.0


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def run() -> None:
    config = load_config()
    config.bot.members_intent = True  # dpytest keeps its members through this intent
    service = await open_service(config)
    service.events.subscribe("job_finished", lambda p: emit(
        {"event": "job_finished", "request_id": p.get("request_id"), "at": time.time()}))
    h = await make_bot(create_bot(config, service, sharded=False, sync_commands=False), members=2, max_wait=60.0)
    courier: Any = h.bot.deliveries  # bot/deliveries.py: follows every result owed to a member
    courier.poll_interval = SLOW_POLL
    courier.sweep_interval = SLOW_POLL
    emit({"event": "ready"})
    try:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
            command = json.loads(line)
            if command["cmd"] == "quit":
                return
            if command["cmd"] == "generate":
                rec = await h.slash("generate", {"prompt": command["prompt"], "model": command["model"]},
                                    user=h.member(1))
                final = rec.original
                emit({"event": "delivered", "at": time.time(), "files": [len(f.data) for f in final.files],
                      "content": final.content or ""})
    finally:
        await h.close()
        await close_service(service)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(run())
