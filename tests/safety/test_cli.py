"""``safety check``: one JSON verdict, or one per JSON Lines input line, in order."""

from __future__ import annotations

import io
import json

from horde_core.safety.prompt_filter import PromptFilter
from horde_core.safety.prompt_filter.cli import run


def call(pf: PromptFilter, args: list[str], stdin: str = "") -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    code = run(args, io.StringIO(stdin), out, prompt_filter=pf)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_single_prompt_prints_one_verdict(pf: PromptFilter) -> None:
    code, lines = call(pf, ["check", "naked child"])
    assert code == 0 and len(lines) == 1
    verdict = lines[0]
    assert verdict["blocked"] is True and verdict["groups"] == ["underage", "sexual"]
    assert set(verdict) >= {"blocked", "score", "sexual", "groups", "matches"}
    assert isinstance(verdict["score"], float) and verdict["score"] > 1


def test_negative_option_and_leading_safety_word(pf: PromptFilter) -> None:
    _, plain = call(pf, ["safety", "check", "nude girl"])
    _, steered = call(pf, ["safety", "check", "--negative", "adult, mature, woman, large breasts", "nude girl"])
    assert plain[0]["blocked"] is False and steered[0]["blocked"] is True


def test_jsonl_answers_each_line_in_order(pf: PromptFilter) -> None:
    rows = [{"prompt": "a child flying a kite"}, {"prompt": "naked child"},
            {"prompt": "nude girl", "negative": "adult, mature, woman, large breasts"},
            {"prompt": "nude woman", "negative": None}, {"prompt": "kitten", "negative": ""}]
    stdin = "\n".join(json.dumps(r) for r in rows) + "\n\n"
    code, lines = call(pf, ["check", "--jsonl"], stdin)
    assert code == 0
    assert [line["blocked"] for line in lines] == [False, True, True, False, False]


def test_jsonl_bad_lines_keep_their_place(pf: PromptFilter) -> None:
    stdin = '{"prompt": "naked kid"}\nnot json\n{"negative": "x"}\n{"prompt": 5}\n{"prompt": "kitten"}\n'
    code, lines = call(pf, ["check", "--jsonl"], stdin)
    assert code == 1
    assert lines[0]["blocked"] is True and "error" in lines[1] and "error" in lines[2] and "error" in lines[3]
    assert lines[4]["blocked"] is False


def test_usage_errors(pf: PromptFilter) -> None:
    assert call(pf, ["check"])[0] == 2
    assert call(pf, ["check", "--jsonl", "extra prompt"])[0] == 2
    assert run(["bogus"], io.StringIO(), io.StringIO(), prompt_filter=pf) == 2
