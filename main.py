"""hordebot's composition root: read the configuration, build the core, serve the API (and the bot).

    python main.py [--config FILE] [--role all|api|bot|sweeper[,...]]
                                                   run the horde (and the bot when a token is set); a role
                                                   runs only part of it, for several nodes on PostgreSQL
    python main.py user create NAME [--kudos N] [--trusted] [--concurrency N]
    python main.py user list
    python main.py user kudos NAME AMOUNT          an audited grant (negative takes kudos back)
    python main.py user key NAME                   replace NAME's API key (prints the new one last)
    python main.py safety check [--negative TEXT] PROMPT | safety check --jsonl < prompts.jsonl
    python main.py safety terms export|import FILE the prompt filter's terms, for administrators
    python main.py dataset import DIR [--dataset NAME] [--gold] [--nsfw]
                                                   images (+ NAME.txt / NAME.json labels) into the rating pool
    python main.py dataset export OUT [--dataset NAME]
                                                   the rated pool: OUT/images/, OUT/manifest.jsonl
    python main.py upstream status                 the upstream horde: account, spend per community, health
    python main.py upstream passkey                a new proxy passkey from the upstream, kept in the database
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from horde_core.api import create_app, runner_options
from horde_core.api.fetch import fetch_image
from horde_core.clock import Clock
from horde_core.config import AppConfig, load_config
from horde_core.db import Database, storage_failure
from horde_core.parts import parts_for
from horde_core.service import HordeError, HordeService
from horde_core.storage import open_store
from horde_core.web import setup_web

log = logging.getLogger("hordebot")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py", description="hordebot: a community AI horde.")
    parser.add_argument("--config", help="TOML settings file (see config.example.toml)")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--role", default="all", type=parse_roles,
                        help="what this process runs: all (default), or any of api, bot, sweeper joined by commas "
                             "(several nodes share one PostgreSQL database; see README 'Running on several nodes')")
    sub = parser.add_subparsers(dest="command")
    user = sub.add_parser("user", help="manage users").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a user and print its API key last")
    create.add_argument("name")
    create.add_argument("--kudos", type=int, default=0)
    create.add_argument("--trusted", action="store_true")
    create.add_argument("--concurrency", type=int, default=None)
    user.add_parser("list", help="list users")
    rekey = user.add_parser("key", help="replace a user's API key (the old one stops working on every node)")
    rekey.add_argument("name")
    grant = user.add_parser("kudos", help="grant kudos through the ledger")
    grant.add_argument("name")
    grant.add_argument("amount", type=int)
    grant.add_argument("--note", default="granted from the command line")
    safety = sub.add_parser("safety", help="the prompt filter: check prompts, export or import its terms")
    safety.add_argument("rest", nargs=argparse.REMAINDER,
                        help="check [--negative TEXT] PROMPT | check --jsonl | terms export FILE | terms import FILE")
    dataset = sub.add_parser("dataset", help="the rating pool: import images, export the ratings") \
        .add_subparsers(dest="action", required=True)
    imp = dataset.add_parser("import", help="add DIR's png/jpg/jpeg/webp images (sidecars NAME.txt, NAME.json)")
    imp.add_argument("dir")
    imp.add_argument("--dataset", default="imported", help="the dataset to add them to (default: imported)")
    imp.add_argument("--gold", action="store_true", help="images with a known rating become hidden gold images")
    imp.add_argument("--nsfw", action="store_true", help="shown on Discord only where NSFW is allowed")
    exp = dataset.add_parser("export", help="write the rated pool (trusted raters only) to OUT")
    exp.add_argument("out")
    exp.add_argument("--dataset", default=None, help="only this dataset (the horde's name: its shared images)")
    upstream = sub.add_parser("upstream", help="upstream mode: a public horde behind the local one")
    upstream.add_argument("action", choices=["status", "passkey"],
                          help="status | passkey (generate the service account's proxy passkey and keep it)")
    upstream.add_argument("--days", type=int, default=7, help="days of spend to show")
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


async def run_cli(args: argparse.Namespace, config: AppConfig) -> int:
    service = await open_service(config)
    try:
        if args.action == "create":
            user, key = await service.create_user(args.name, kudos=args.kudos, trusted=args.trusted,
                                                  concurrency=args.concurrency)
            print(f"Created {user.display_name} with {user.kudos} kudos"
                  f"{' (trusted)' if user.trusted else ''}. API key (shown once):")
            print(key)
        elif args.action == "list":
            print(f"{'id':>6}  {'username':<30} {'kudos':>10}  trusted  concurrency")
            for u in await service.list_users():
                print(f"{u.id:>6}  {u.display_name:<30} {u.kudos:>10}  {'yes' if u.trusted else 'no':<7}  "
                      f"{u.concurrency}")
        elif args.action == "kudos":
            user = await service.grant_kudos(args.name, args.amount, args.note)
            print(f"{user.display_name} now has {user.kudos} kudos.")
        elif args.action == "key":
            user = await service.user_by_name(args.name)
            key = await service.regenerate_key(user.id)
            print(f"{user.display_name} has a new API key; the old one no longer works. API key (shown once):")
            print(key)
    except HordeError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    finally:
        await close_service(service)
    return 0


def _report_bot_exit(task: asyncio.Task[None]) -> None:
    """The horde keeps serving its workers and API clients if the bot cannot run (e.g. a bad token)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("the Discord bot stopped; the horde keeps running: %s", task.exception())


async def run_safety(args: argparse.Namespace, config: AppConfig) -> int:
    """`safety check` uses the terms in force (the database's, or the shipped ones before the first start);
    `safety terms export|import FILE` lets an administrator edit them."""
    from horde_core.safety.prompt_filter import PromptFilter
    from horde_core.safety.prompt_filter import cli as safety_cli

    rest = list(args.rest)
    if rest[:1] == ["terms"]:
        if len(rest) != 3 or rest[1] not in ("export", "import"):
            print("usage: main.py safety terms export|import FILE", file=sys.stderr)
            return 2
        service = await open_service(config)
        try:
            path = Path(rest[2])
            if rest[1] == "export":
                text = json.dumps(await service.filter_terms(), ensure_ascii=False, indent=1)
                await asyncio.to_thread(path.write_text, text, encoding="utf-8")
                print(f"Wrote the filter terms to {path}.")
            else:
                await service.set_filter_terms(json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8")))
                print("The new filter terms are in force (other nodes pick them up within a minute).")
        except HordeError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
        finally:
            await close_service(service)
        return 0
    prompt_filter = None
    db_file = config.database_url.split("///", 1)[-1] if config.database_url.startswith("sqlite") else None
    if db_file is None or await asyncio.to_thread(Path(db_file).exists):
        service = await open_service(config)
        try:
            prompt_filter = PromptFilter(await service.filter_terms())
        finally:
            await close_service(service)
    return safety_cli.run(rest, sys.stdin, sys.stdout, prompt_filter=prompt_filter)


async def run_upstream(args: argparse.Namespace, config: AppConfig) -> int:
    """`upstream status`: the account at the upstream (asked live), spend per community and day, pauses,
    and the relay's last success and error (from the database, so it works beside a running server)."""
    from horde_core.upstream import UpstreamError, client_for

    up = config.upstream
    if args.action == "passkey":
        return await _upstream_passkey(config)
    service = await open_service(config)
    try:
        report = await service.upstream_report(args.days)
    finally:
        await close_service(service)
    print(f"Upstream mode: {'on' if up.enabled and up.url else 'off'}"
          f"{f' ({up.url})' if up.url else ' (set [upstream] url, api_key and enabled)'}")
    if up.url:
        client = client_for(config)
        try:
            alive = await client.heartbeat()
            try:
                account = await client.find_user()
                who = f"{account.get('username', '?')} with {account.get('kudos', '?')} kudos"
                if account.get("service") is False:
                    who += " (NOT a service account: proxied_account and passkeys are refused)"
            except UpstreamError as exc:
                who = f"unknown ({exc.message})"
        finally:
            await client.close()
        print(f"Upstream reachable: {'yes' if alive else 'no'}; account: {who}")
    if report["proxying"]:
        print(f"Proxying: on (passkey from the {report['passkey_source']}): each member's requests carry their own "
              "Proxied-For value, so the upstream times out that member, not the operator's address")
    else:
        print("Proxying: off: every member shares the operator's address upstream, and one refused prompt times "
              "it out for everyone; run `python main.py upstream passkey` (needs a service account)")
    if report["account_spent_today"]:
        print(f"The operator's account lost {report['account_spent_today']:.1f} kudos today (as the relay saw it)")
    health = report["health"]
    if health:
        print(f"Relay: last success {_ago(health.get('last_ok'))}, last error {_ago(health.get('last_error_at'))}"
              f"{': ' + health['last_error'] if health.get('last_error') else ''}")
    print(f"Kinds: {', '.join(up.kinds)}; models: {', '.join(up.models) or 'any'}; "
          f"after {up.wait_seconds:.0f} s without a local worker; budget per day "
          f"{up.daily_budget or 'unlimited'}, per community {up.daily_budget_per_community or 'unlimited'}")
    print(f"\n{'day':<11} {'community':<32} {'kudos':>10} {'sent':>6} {'done':>6} {'failed':>6} {'refused':>7}")
    for row in report["days"]:
        print(f"{row['day']:<11} {row['community']:<32} {row['kudos']:>10.1f} {row['sent']:>6} {row['done']:>6} "
              f"{row['failed']:>6} {row['refused']:>7}")
    if not report["days"]:
        print("(nothing went upstream in these days)")
    for pause in report["pauses"]:
        what = "held back" if pause["community"].startswith(("member:", "user:", "ip:")) else "paused"
        who = "everyone" if pause["community"] == "*" else pause["community"]
        print(f"{what}: {who} until {_when(pause['until'])} ({pause['reason']})")
    return 0


async def _upstream_passkey(config: AppConfig) -> int:
    """`upstream passkey`: ask the upstream for a new proxy passkey and keep it in the database (the relay
    picks it up within a minute). Never printed in full; a new one replaces the old one upstream too."""
    from horde_core.upstream import UpstreamError, client_for

    up = config.upstream
    if not up.url:
        print("error: set [upstream] url and api_key first", file=sys.stderr)
        return 2
    if up.proxy_passkey:
        print("error: [upstream] proxy_passkey is set in the config or environment and wins over a stored one; a new "
              "passkey would invalidate it. Remove it, then run this again.", file=sys.stderr)
        return 2
    client = client_for(config)
    try:
        passkey = await client.generate_passkey()
    except UpstreamError as exc:
        print(f"error: the upstream did not give a passkey: {exc.message}"
              f"{' (the account must be a service account: ask the upstream moderators)' if exc.status == 403 else ''}",
              file=sys.stderr)
        return 2
    finally:
        await client.close()
    service = await open_service(config)
    try:
        await service.upstream_store_passkey(passkey)
    finally:
        await service.db.dispose()
    print(f"Stored a new proxy passkey (...{passkey[-4:]}) in the database; it replaces any earlier one. Running "
          "relays use it within a minute: every request then names its member (Proxied-For).")
    return 0


def _when(at: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _ago(at: float | None) -> str:
    return "never" if not at else _when(at)


async def run_dataset(args: argparse.Namespace, config: AppConfig) -> int:
    """`dataset import DIR`: every png/jpg/jpeg/webp image in DIR into the rating pool, with an optional caption
    (NAME.txt) and labels (NAME.json: {"caption", "rating", "artifacts"}); a file that is not an image, or has a
    bad sidecar, is reported and skipped. `dataset export OUT`: OUT/images/<id>.webp and OUT/manifest.jsonl,
    one JSON line per rated image (horde_core/service/datasets.py says what is in it)."""
    service = await open_service(config)
    try:
        if args.action == "import":
            return await _import_images(service, Path(args.dir), args)
        return await _export_images(service, Path(args.out), args.dataset)
    except HordeError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    finally:
        await close_service(service)


async def _import_images(service: HordeService, folder: Path, args: argparse.Namespace) -> int:
    from horde_core.ratings.labels import IMAGE_SUFFIXES, LabelError, parse_labels

    dataset = service.check_dataset(args.dataset)
    if not await asyncio.to_thread(folder.is_dir):
        print(f"error: {folder} is not a directory", file=sys.stderr)
        return 2
    files = sorted(await asyncio.to_thread(lambda: [p for p in folder.iterdir() if p.is_file()]))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    sidecars = {p.name for p in files if p.suffix.lower() in (".txt", ".json")}
    counts = dict.fromkeys(("added", "relabelled", "unchanged", "rejected", "gold"), 0)
    for path in images:

        def read(suffix: str, path: Path = path) -> str | None:
            side = path.with_suffix(suffix)
            return side.read_text(encoding="utf-8") if side.name in sidecars else None

        try:
            labels = parse_labels(await asyncio.to_thread(read, ".txt"), await asyncio.to_thread(read, ".json"))
        except LabelError as exc:
            print(f"skipped {path.name}: {path.with_suffix('.json').name}: {exc}", file=sys.stderr)
            counts["rejected"] += 1
            continue
        try:
            _, outcome = await service.import_image(dataset, await asyncio.to_thread(path.read_bytes), labels,
                                                    gold=args.gold, nsfw=args.nsfw, source_name=path.name)
        except HordeError as exc:
            print(f"skipped {path.name}: {exc.message}", file=sys.stderr)
            counts["rejected"] += 1
            continue
        counts[outcome] += 1
        counts["gold"] += bool(args.gold and labels.rating is not None)
    ignored = len(files) - len(images) - sum(1 for p in files if p.name in sidecars)
    print(f"Dataset {dataset}: {counts['added']} added, {counts['relabelled']} relabelled, {counts['unchanged']} "
          f"already there, {counts['rejected']} rejected ({counts['gold']} gold); {ignored} other files ignored.")
    return 0


async def _export_images(service: HordeService, out: Path, dataset: str | None) -> int:
    images = out / "images"
    await asyncio.to_thread(images.mkdir, parents=True, exist_ok=True)
    lines: list[str] = []
    missing = ratings = 0
    async for row, data in service.export_dataset(dataset):
        if data is None:
            missing += 1
            continue
        await asyncio.to_thread((out / row["file"]).write_bytes, data)
        lines.append(json.dumps(row, ensure_ascii=False))
        ratings += len(row["ratings"])
    await asyncio.to_thread((out / "manifest.jsonl").write_text, "".join(f"{line}\n" for line in lines),
                            encoding="utf-8")
    print(f"Exported {len(lines)} images with {ratings} trusted ratings to {out}"
          f"{f' ({missing} images missing from the store were left out)' if missing else ''}.")
    return 0


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
        if args.command == "user":
            return asyncio.run(run_cli(args, config))
        if args.command == "safety":
            return asyncio.run(run_safety(args, config))
        if args.command == "dataset":
            return asyncio.run(run_dataset(args, config))
        if args.command == "upstream":
            return asyncio.run(run_upstream(args, config))
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
    return 0




if __name__ == "__main__":
    sys.exit(main())
