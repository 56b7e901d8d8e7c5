"""`python main.py safety check|terms`: the prompt filter from the console. `safety check` uses the terms in
force (the database's, or the shipped ones before the first start, without creating a database);
`safety terms export|import FILE` lets an administrator edit them."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from horde_core.config import AppConfig

from .common import OpenCore

NAME = "safety"


def add_parser(sub: Any) -> None:
    safety = sub.add_parser(NAME, help="the prompt filter: check prompts, export or import its terms")
    safety.add_argument("rest", nargs=argparse.REMAINDER,
                        help="check [--negative TEXT] PROMPT | check --jsonl | terms export FILE | terms import FILE")


async def run(args: argparse.Namespace, config: AppConfig, core: OpenCore) -> int:
    from horde_core.safety.prompt_filter import PromptFilter
    from horde_core.safety.prompt_filter import cli as safety_cli

    rest = list(args.rest)
    if rest[:1] == ["terms"]:
        if len(rest) != 3 or rest[1] not in ("export", "import"):
            print("usage: main.py safety terms export|import FILE", file=sys.stderr)
            return 2
        return await _terms(core, rest[1], Path(rest[2]))
    prompt_filter = None
    db_file = config.database_url.split("///", 1)[-1] if config.database_url.startswith("sqlite") else None
    if db_file is None or await asyncio.to_thread(Path(db_file).exists):
        async with core() as service:
            prompt_filter = PromptFilter(await service.filter_terms())
    return safety_cli.run(rest, sys.stdin, sys.stdout, prompt_filter=prompt_filter)


async def _terms(core: OpenCore, action: str, path: Path) -> int:
    async with core() as service:
        if action == "export":
            text = json.dumps(await service.filter_terms(), ensure_ascii=False, indent=1)
            await asyncio.to_thread(path.write_text, text, encoding="utf-8")
            print(f"Wrote the filter terms to {path}.")
        else:
            await service.set_filter_terms(json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8")))
            print("The new filter terms are in force (other nodes pick them up within a minute).")
    return 0
