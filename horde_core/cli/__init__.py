"""The admin commands, an adapter beside api/: one module per command group, each with a NAME, an
`add_parser(sub)` that declares its arguments and an `async run(args, config, core) -> int` that does the work
through HordeService. main.py (the composition root) parses, then hands the chosen group a way to open the core
(`core()`, an async context manager that migrates, starts the node's parts and closes them again), so a group
opens the core only when it needs it (e.g. `safety check` runs without a database).

    python main.py user create NAME [--kudos N] [--trusted] [--concurrency N]
    python main.py user list
    python main.py user kudos NAME AMOUNT          an audited grant (negative takes kudos back)
    python main.py user key NAME                   replace NAME's API key (prints the new one last)
    python main.py user role NAME [--moderator|--no-moderator] [--customizer|--no-customizer]
                                  [--flagged|--no-flagged] [--trusted|--no-trusted]
                                                   set (or, with no flag, show) NAME's roles
    python main.py safety check [--negative TEXT] PROMPT | safety check --jsonl < prompts.jsonl
    python main.py safety terms export|import FILE the prompt filter's terms, for administrators
    python main.py dataset import DIR [--dataset NAME] [--gold] [--nsfw]
                                                   images (+ NAME.txt / NAME.json labels) into the rating pool
    python main.py dataset export OUT [--dataset NAME]
                                                   the rated pool: OUT/images/, OUT/manifest.jsonl
    python main.py upstream status                 the upstream horde: account, spend per community, health
    python main.py upstream passkey                a new proxy passkey from the upstream, kept in the database

A new group is a new module here and one entry in GROUPS; main.py does not change.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from horde_core.config import AppConfig
from horde_core.service import HordeError

from . import dataset, safety, upstream, user
from .common import OpenCore

GROUPS = (user, safety, dataset, upstream)
USAGE = __doc__.split("\n\n")[1] if __doc__ else ""


def add_parsers(sub: Any) -> None:
    """Every group's subcommand on main's subparsers (`sub`, from `parser.add_subparsers(dest="command")`)."""
    for group in GROUPS:
        group.add_parser(sub)


def is_command(args: argparse.Namespace) -> bool:
    return getattr(args, "command", None) in {group.NAME for group in GROUPS}


async def run(args: argparse.Namespace, config: AppConfig, core: OpenCore) -> int:
    """Run the group `args.command` names; a HordeError (no such user, bad input) is one line on stderr, rc 2."""
    group = next(g for g in GROUPS if args.command == g.NAME)
    try:
        return await group.run(args, config, core)
    except HordeError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2


__all__ = ["GROUPS", "USAGE", "OpenCore", "add_parsers", "is_command", "run"]
