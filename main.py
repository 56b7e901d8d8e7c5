"""hordebot's composition root: read the configuration, build the core, serve the API (and the bot).

    python main.py [--config FILE] [--role all|api|bot|sweeper[,...]]
                                                   run the horde (and the bot when a token is set); a role
                                                   runs only part of it, for several nodes on PostgreSQL
    python main.py user|safety|dataset|upstream ...
                                                   the admin commands (horde_core/cli/, one module per group);
                                                   `python main.py --help` lists them, GROUP --help explains one
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from horde_core import cli
from horde_core.api import create_app, runner_options
from horde_core.api.fetch import fetch_image
from horde_core.clock import Clock
from horde_core.config import AppConfig, load_config
from horde_core.db import Database, storage_failure
from horde_core.parts import parts_for
from horde_core.service import HordeService
from horde_core.storage import open_store
from horde_core.web import setup_web

log = logging.getLogger("hordebot")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py", description="hordebot: a community AI horde.",
                                     epilog="admin commands:\n" + cli.USAGE,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="TOML settings file (see config.example.toml)")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--role", default="all", type=parse_roles,
                        help="what this process runs: all (default), or any of api, bot, sweeper joined by commas "
                             "(several nodes share one PostgreSQL database; see README 'Running on several nodes')")
    cli.add_parsers(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


class StartupError(Exception):
    """Something on this machine stops the horde from starting; the message says what to do."""


def _storage_hint(path: str, reason: str) -> str:
    return (f"hordebot cannot write to {path}: {reason}. Free some space on that disk (or make it writable), "
            "or point core.data_dir (HORDE_CORE__DATA_DIR) at a directory that is, then start again.")


def check_data_dir(config: AppConfig) -> None:
    """Before anything else: can we write where images (and the SQLite database) live? A full or read-only
    disk is said plainly here, with the path, instead of surfacing as a traceback from deep inside."""
    images = Path(config.core.data_dir) / "images"
    probe = images / f".write-probe-{os.getpid()}"
    try:
        images.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as fh:
            fh.write(b"\0" * 4096)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        reason = storage_failure(exc) or exc.strerror or type(exc).__name__
        raise StartupError(_storage_hint(str(Path(config.core.data_dir).resolve()), reason)) from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


ROLES = ("api", "bot", "sweeper")


def parse_roles(text: str) -> frozenset[str]:
    """`all`, or roles joined by commas: api (the HTTP API), bot (the Discord bot, or its shards), sweeper
    (background sweeps and the upstream relay)."""
    names = {part.strip().lower() for part in text.split(",") if part.strip()}
    if names == {"all"}:
        return frozenset(ROLES)
    unknown = names - set(ROLES)
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown role {', '.join(sorted(unknown)) or text!r}; "
                                         f"use all or any of {', '.join(ROLES)}")
    return frozenset(names)


async def open_service(config: AppConfig) -> HordeService:
    """The core as this node runs it: migrated database, image store, and the node's parts (shared through
    PostgreSQL when the database is PostgreSQL, so events and cache invalidations reach the other nodes)."""
    check_data_dir(config)
    db = Database(config.database_url, pool_size=config.core.db_pool_size)
    await db.migrate()
    clock = Clock()
    store = await open_store(config)
    parts = parts_for(db, clock, config.core.shared_state)
    await parts.start()
    service = HordeService(config, db, clock=clock, store=store, parts=parts)
    await service.bootstrap()
    return service


async def close_service(service: HordeService) -> None:
    """Send what events are still queued to the other nodes, then close the store and the database."""
    await service.parts.close()
    await service.store.close()
    await service.db.dispose()


@contextlib.asynccontextmanager
async def core(config: AppConfig) -> AsyncIterator[HordeService]:
    """The core for one admin command: opened when the command needs it, closed (events flushed) after."""
    service = await open_service(config)
    try:
        yield service
    finally:
        await close_service(service)


def _report_bot_exit(task: asyncio.Task[None]) -> None:
    """The horde keeps serving its workers and API clients if the bot cannot run (e.g. a bad token)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("the Discord bot stopped; the horde keeps running: %s", task.exception())


async def serve(config: AppConfig, roles: frozenset[str] = frozenset(ROLES)) -> int:
    """Run this node's roles until SIGINT/SIGTERM, then stop them in order (bot, sweeps, API, storage)."""
    if roles == {"bot"} and not config.bot.token:
        log.error("--role bot needs a bot token (HORDE_BOT__TOKEN)")
        return 2
    service = await open_service(config)
    service.fetch_url = fetch_image
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    db_kind = "SQLite" if service.db.dialect == "sqlite" else "PostgreSQL"
    log.info("node roles: %s (database: %s, images: %s, state: %s)", ", ".join(sorted(roles)), db_kind,
             config.core.image_store, "shared" if service.parts.shared else "this process")
    runner: web.AppRunner | None = None
    if "api" in roles:
        app = create_app(service, config)
        setup_web(app, service, config)
        runner = web.AppRunner(app, **runner_options(config))  # type: ignore[arg-type]
        await runner.setup()
        await web.TCPSite(runner, config.api.host, config.api.port).start()
        log.info("horde API on http://%s:%s", config.api.host, config.api.port)
        log.info("workers and clients: use base URL %s/api/ with a key from "
                 "`python main.py user create NAME`", config.public_url)
    background: list[asyncio.Task[None]] = []
    if "sweeper" in roles:
        background.append(asyncio.create_task(service.run_sweeps(stop)))
        if config.upstream.enabled and config.upstream.url:
            from horde_core.upstream import UpstreamRelay, client_for

            background.append(asyncio.create_task(UpstreamRelay(service, client_for(config)).run(stop)))
    bot = None
    if "bot" in roles and config.bot.token:
        from bot import create_bot

        bot = create_bot(config, service)
        bot_task = asyncio.create_task(bot.start(config.bot.token))
        bot_task.add_done_callback(_report_bot_exit)
        log.info("Discord bot starting%s", f" (shards {config.bot.shard_ids} of {config.bot.shard_count})"
                 if config.bot.shard_ids else "")
    elif "bot" in roles:
        log.info("no bot token (HORDE_BOT__TOKEN): running the horde alone")
    log.info("ready")
    await stop.wait()
    log.info("shutting down")
    if bot is not None:
        await bot.close()
    for task in background:
        await task
    if runner is not None:
        await runner.cleanup()
    await close_service(service)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    config = load_config(args.config)
    try:
        if cli.is_command(args):
            return asyncio.run(cli.run(args, config, functools.partial(core, config)))
        return asyncio.run(serve(config, args.role))
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 2
    except Exception as exc:
        reason = storage_failure(exc)
        if reason is None:
            raise
        where = config.database_url if config.database_url.startswith("sqlite") else config.core.data_dir
        print(_storage_hint(where.split("///", 1)[-1], reason), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
