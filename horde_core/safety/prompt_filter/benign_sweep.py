"""Sweep word lists for real words that typo tolerance would read as a term (a developer's tool).

Typo tolerance covers every language, so a real word one or two edits from a term ("cachorro" and
"cachondo", "chic" and "chica") would count as that term.  This reads word lists (one word a line, such
as the Debian ``wamerican``, ``wspanish``, ``wngerman``, ``wfrench``, ``witalian``, ``wportuguese`` and
``wbrazilian`` packages under ``/usr/share/dict``), resolves each word as a prompt word is resolved, and
keeps those that only a typo guess turns into underage, sexual or steering evidence.  Rare words are left
out (``--min-zipf``, default 2.5, about one in three million words of their language, measured with the
``wordfreq`` package): the French "lingère" is a real word, but "lingere" in a prompt is far more often
a misspelt "lingerie".  It prints the words with the term each would become, for review, or with
``--into TERMS.json`` writes them, sorted, as that file's ``benign_swept`` list (hand-written exceptions
live in ``benign_words`` and are kept).  Nothing at run time reads the word lists::

    pip install wordfreq
    python -m horde_core.safety.prompt_filter.benign_sweep --into data/default_terms.json \\
        en=/usr/share/dict/american-english es=/usr/share/dict/spanish de=/usr/share/dict/ngerman \\
        fr=/usr/share/dict/french it=/usr/share/dict/italian pt=/usr/share/dict/portuguese \\
        pt=/usr/share/dict/brazilian
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from horde_core.safety.prompt_filter.engine import PromptFilter
from horde_core.safety.prompt_filter.normalize import term_key
from horde_core.safety.prompt_filter.resolve import Resolver

__all__ = ["main", "sweep"]

_EVIDENCE = frozenset({"underage", "sexual", "steer"})


def _folded(word: str) -> str | None:
    words, cjk = term_key(word)
    return words[0] if len(words) == 1 and not cjk and words[0].isalpha() and len(words[0]) >= 4 else None


def sweep(words: Iterable[str], prompt_filter: PromptFilter | None = None,
          common: Callable[[str], bool] | None = None) -> dict[str, str]:
    """Real words (folded) that resolve to a term only through a typo guess, with the term they would become
    (only terms that are evidence: underage, sexual, steering, or a word of such a phrase); ``common``
    keeps only the words it accepts (as written, before folding)."""
    pf = prompt_filter or PromptFilter()
    resolver = Resolver(pf.terms)
    evidence = {w for w, es in pf.terms.words.items() if any(e.group in _EVIDENCE for e in es)}
    evidence |= {w for phrase in pf.terms.phrases.values() for words_, entries in phrase for w in words_
                 if any(e.group in _EVIDENCE for e in entries)}
    evidence |= {w for rule in pf.terms.pairs for w in rule.a | rule.b}
    found: dict[str, str] = {}
    for raw in words:
        word = _folded(raw.strip())
        if word is None or word in found:
            continue
        guess = resolver.typo_guess(word)
        if guess and (guess in evidence or guess.endswith("*")) and (common is None or common(raw.strip())):
            found[word] = guess
    return found


def write_swept(path: Path, words: Iterable[str]) -> None:
    """Replace the ``benign_swept`` list of a term file, keeping the rest of the file as it is written."""
    text = path.read_text(encoding="utf-8")
    lines, line = [], ""
    for word in sorted(set(words)):
        item = json.dumps(word, ensure_ascii=False) + ", "
        if len(line) + len(item) > 112:
            lines.append("    " + line.rstrip())
            line = ""
        line += item
    lines.append("    " + line.rstrip().rstrip(","))
    block = '  "benign_swept": [\n' + "\n".join(lines) + "\n  ],\n"
    start = text.find('  "benign_swept": [')
    if start >= 0:
        end = text.index("  ],\n", start) + len("  ],\n")
        text = text[:start] + block + text[end:]
    else:
        anchor = text.index('  "replacements": {')
        text = text[:anchor] + block + text[anchor:]
    json.loads(text)
    path.write_text(text, encoding="utf-8")


def _frequency_filter(language: str, min_zipf: float) -> Callable[[str], bool] | None:
    if min_zipf <= 0:
        return None
    from wordfreq import zipf_frequency  # a developer's dependency: pip install wordfreq

    return lambda word: zipf_frequency(word, language) >= min_zipf


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """``[--into TERMS.json] [--min-zipf Z] LANG=PATH ...`` (see the module docstring)."""
    out = out or sys.stdout
    args = list(argv if argv is not None else sys.argv[1:])
    into, min_zipf = None, 2.5
    while args and args[0].startswith("--"):
        if args[0] == "--into":
            into, args = Path(args[1]), args[2:]
        elif args[0] == "--min-zipf":
            min_zipf, args = float(args[1]), args[2:]
        else:
            raise SystemExit(f"unknown option {args[0]}")
    pf = None
    if into is not None:
        data = json.loads(into.read_text(encoding="utf-8"))
        data["benign_swept"] = []  # sweep against the hand-written list only, so stale entries drop out
        pf = PromptFilter(data)
    found: dict[str, str] = {}
    for spec in args:
        language, _, path = spec.rpartition("=")
        words = Path(path).read_text(encoding="utf-8", errors="replace").split()
        found.update(sweep(words, pf, _frequency_filter(language or "en", min_zipf)))
    if into is not None:
        write_swept(into, found)
        out.write(f"{len(found)} words written to {into}\n")
    else:
        out.write(json.dumps(dict(sorted(found.items())), ensure_ascii=False, indent=0) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
