"""Measure the prompt filter on a labelled JSON Lines set: recall, false-positive rate, per family, misses.

Each line is ``{"prompt", "negative", "label": "block"|"allow", "family"}``.  Recall is the share of
"block" lines blocked; the false-positive rate is the share of "allow" lines blocked.  Usage::

    python -m horde_core.safety.prompt_filter.evaluate [--variants N] [--misses N] [FILE ...]

With FILE it reports those labelled files.  Without, it reports the labelled development set
``eval/prompts.jsonl`` and its held-out split ``eval/holdout.jsonl``, then the robustness evaluation
(``robustness.py``: every obfuscation family alone and every pair, ``N`` seeded variants per seed and
combination, default 2) on the robustness development seeds and on the held-out seeds, never tuned on
(see ``eval/README.md``).
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, TextIO

from horde_core.safety.prompt_filter import robustness
from horde_core.safety.prompt_filter.engine import PromptFilter

__all__ = ["DEFAULT_SET", "HOLDOUT_SET", "evaluate", "main"]

DEFAULT_SET = Path(__file__).resolve().parent / "eval" / "prompts.jsonl"
HOLDOUT_SET = Path(__file__).resolve().parent / "eval" / "holdout.jsonl"


def _rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("label") not in ("block", "allow") or not isinstance(row.get("prompt"), str):
            raise ValueError(f"{path}:{number}: needs a string 'prompt' and a 'label' of block/allow")
        rows.append(row)
    return rows


def evaluate(path: str | Path = DEFAULT_SET, prompt_filter: PromptFilter | None = None) -> dict[str, Any]:
    """Run the filter over one labelled file and return the figures (see module docstring)."""
    pf = prompt_filter or PromptFilter()
    rows = _rows(Path(path))
    families: dict[str, dict[str, int]] = defaultdict(lambda: {"total": 0, "correct": 0})
    counts = {"block": 0, "allow": 0, "blocked_block": 0, "blocked_allow": 0}
    misses: list[dict[str, Any]] = []
    started = time.perf_counter()
    for row in rows:
        verdict = pf.check(row["prompt"], row.get("negative", "") or "")
        label = row["label"]
        counts[label] += 1
        counts[f"blocked_{label}"] += verdict.blocked
        family = families[f"{label}/{row.get('family', 'unknown')}"]
        family["total"] += 1
        correct = verdict.blocked == (label == "block")
        family["correct"] += correct
        if not correct:
            misses.append({"label": label, "family": row.get("family"), "prompt": row["prompt"],
                           "negative": row.get("negative", ""), "score": round(verdict.score, 2),
                           "sexual": round(verdict.sexual, 2), "matches": verdict.matches})
    elapsed = time.perf_counter() - started
    return {
        "file": str(path),
        "rows": len(rows),
        "recall": counts["blocked_block"] / counts["block"] if counts["block"] else 1.0,
        "false_positive_rate": counts["blocked_allow"] / counts["allow"] if counts["allow"] else 0.0,
        "block_rows": counts["block"],
        "allow_rows": counts["allow"],
        "families": {k: {**v, "rate": v["correct"] / v["total"]} for k, v in sorted(families.items())},
        "misses": misses,
        "mean_check_ms": 1000 * elapsed / max(1, len(rows)),
    }


def _report(result: dict[str, Any], out: TextIO) -> None:
    out.write(f"{result['file']}: {result['rows']} prompts ({result['block_rows']} block, "
              f"{result['allow_rows']} allow)\n")
    out.write(f"recall {result['recall']:.3f}   false-positive rate {result['false_positive_rate']:.3f}   "
              f"mean check {result['mean_check_ms']:.3f} ms\n\nper family (correct/total):\n")
    for name, fam in result["families"].items():
        out.write(f"  {name:32s} {fam['correct']:4d}/{fam['total']:<4d} {fam['rate']:.2f}\n")
    if result["misses"]:
        out.write("\nmisses:\n")
        for miss in result["misses"]:
            neg = f" ### {miss['negative']}" if miss["negative"] else ""
            out.write(f"  [{miss['label']}/{miss['family']}] {miss['prompt']}{neg}  "
                      f"(score {miss['score']}, sexual {miss['sexual']}, {', '.join(miss['matches'])})\n")


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Print the report for each file (or the default sets and the robustness tables); exit status 0
    (figures are information, not a gate)."""
    out = out or sys.stdout
    args = list(argv if argv is not None else sys.argv[1:])
    variants, misses = 2, 0
    while args and args[0] in ("--variants", "--misses"):
        value = int(args[1])
        variants, misses = (value, misses) if args[0] == "--variants" else (variants, value)
        args = args[2:]
    pf = PromptFilter()
    for path in args or [str(DEFAULT_SET), str(HOLDOUT_SET)]:
        _report(evaluate(path, pf), out)
        out.write("\n")
    if not args:
        for seeds in (robustness.DEV_SEEDS, robustness.HOLDOUT_SEEDS):
            robustness.report(robustness.run(seeds, pf, variants=variants), out, misses=misses)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
