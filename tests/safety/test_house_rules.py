"""House rules for the prompt filter package: small modules, no import-time work, the data ships."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import horde_core.safety.prompt_filter as package
from horde_core.safety.prompt_filter import load_default_terms

PACKAGE = Path(package.__file__).resolve().parent


def test_modules_stay_small() -> None:
    for module in PACKAGE.glob("*.py"):
        assert len(module.read_text(encoding="utf-8").splitlines()) < 400, module.name


def test_importing_reads_no_files() -> None:
    code = (
        "import builtins, io\n"
        "opened = []\n"
        "real_open, real_io = builtins.open, io.open\n"
        "def spy(f, *a, **k):\n"
        "    opened.append(str(f)); return real_open(f, *a, **k)\n"
        "builtins.open = spy\n"
        "import horde_core.safety.prompt_filter.engine, horde_core.safety.prompt_filter.cli\n"
        "import horde_core.safety.prompt_filter.evaluate\n"
        "assert not [f for f in opened if f.endswith('.json') or f.endswith('.jsonl')], opened\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parents[2])


def test_the_default_term_set_ships_every_language() -> None:
    data = load_default_terms()
    for group in ("underage", "sexual"):
        assert {"en", "slang", "es", "de", "fr", "pt", "it", "ru", "ru_latn", "ja", "ja_latn"} <= set(
            data["groups"][group]), group
    assert data["context"] and data["steering"] and data["safe_phrases"] and data["protective_negative"]
