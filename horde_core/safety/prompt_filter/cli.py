"""``safety check``: the prompt filter from the command line, one verdict or a JSON Lines stream.

    safety check [--negative TEXT] PROMPT     -> one JSON verdict
    safety check --jsonl < requests.jsonl     -> one JSON verdict per input line, in order

Each verdict carries ``blocked``, ``score`` (underage), ``sexual``, ``groups`` and ``matches``.  A bad
input line in ``--jsonl`` mode yields ``{"error": ...}`` on its own line, so output stays aligned with
input.  ``main.py`` wires this in; it takes its streams as arguments so tests need no subprocess.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from horde_core.safety.prompt_filter.engine import PromptFilter, Verdict

__all__ = ["run"]

_EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="safety", description="Check prompts against the prompt filter.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="print the filter's verdict as JSON")
    check.add_argument("prompt", nargs="?", help="the prompt (AI Horde style 'positive ### negative' works)")
    check.add_argument("--negative", default="", help="the negative prompt")
    check.add_argument("--jsonl", action="store_true", help='read {"prompt", "negative"} lines from stdin')
    return parser


def _verdict_json(verdict: Verdict) -> str:
    data = verdict.to_dict()
    data.pop("reasons", None)
    return json.dumps(data, ensure_ascii=False)


def _jsonl(pf: PromptFilter, stdin: TextIO, stdout: TextIO) -> int:
    failures = 0
    for line in stdin:
        if not line.strip():
            continue
        try:
            row: Any = json.loads(line)
            prompt, negative = row["prompt"], row.get("negative") or ""
            if not isinstance(prompt, str) or not isinstance(negative, str):
                raise TypeError("prompt and negative must be strings")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            failures += 1
            stdout.write(json.dumps({"error": f"bad input line: {exc}"}) + "\n")
            continue
        stdout.write(_verdict_json(pf.check(prompt, negative)) + "\n")
    stdout.flush()
    return 1 if failures else 0


def run(args: list[str], stdin: TextIO, stdout: TextIO, prompt_filter: PromptFilter | None = None) -> int:
    """Run ``safety ...`` (``args`` may start with "safety" or with the sub-command); return an exit code."""
    if args and args[0] == "safety":
        args = args[1:]
    try:
        ns = _parser().parse_args(args)
    except SystemExit as exc:  # argparse already printed the usage to stderr
        return int(exc.code or 0) if exc.code in (0, None) else _EXIT_USAGE
    pf = prompt_filter or PromptFilter()
    if ns.jsonl:
        if ns.prompt is not None:
            stdout.write(json.dumps({"error": "--jsonl reads prompts from stdin; give no PROMPT"}) + "\n")
            return _EXIT_USAGE
        return _jsonl(pf, stdin, stdout)
    if ns.prompt is None:
        stdout.write(json.dumps({"error": "give a PROMPT or --jsonl"}) + "\n")
        return _EXIT_USAGE
    stdout.write(_verdict_json(pf.check(ns.prompt, ns.negative)) + "\n")
    return 0
