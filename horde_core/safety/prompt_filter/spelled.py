"""Join words spelt one letter at a time: ``n.a.k.e.d``, ``n a k e d``, ``n u d e   c h i l d``.

Within one word of the prompt, two or more single letters between separators are one word.  Across
words, a run of three or more single-letter words is joined, and split again where the writer left a wider
gap or a comma between letters (``n u d e  k i d`` is two words).  When every gap is the same the word
boundaries are lost (``n u d e k i d``); the joined token is marked ``spelled`` and the matcher cuts it
into known words (unless it reads better as one misspelt word: ``u n d e`` is "nude", not "un de").
Ordinary one-letter words (English "a" and "I", Spanish "y" and "o", Portuguese "e", French "à") join
like the others, and the matcher's cut gives them back: joining is never a verdict, only a reading, so
"vitamin a b c" costs a lookup and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import groupby
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from horde_core.safety.prompt_filter.normalize import Token

__all__ = ["join_letter_runs", "wide_gaps"]

_WORD = re.compile(r"\S+")
_MIN_RUN = 3  # single-letter words in a row before they are read as one word


def wide_gaps(text: str) -> frozenset[int]:
    """Indices of the words of ``text`` preceded by more than one space (or a tab or a line break)."""
    out = set()
    end = -1
    for index, match in enumerate(_WORD.finditer(text)):
        if index and (match.start() - end > 1 or text[end] != " "):
            out.add(index)
        end = match.end()
    return frozenset(out)


def _single(token: Token) -> bool:
    return not token.cjk and len(token.raw) == 1


def _pieces(run: list[Token], wide: frozenset[int]) -> list[list[Token]]:
    """Cut a run of single letters at wider gaps and commas, if the writer used both kinds of gap."""
    breaks = [k for k in range(1, len(run))
              if run[k].gap or (run[k].first in wide and run[k].first != run[k - 1].first)]
    narrow = len(run) - 1 - len(breaks)
    if not breaks or narrow == 0:
        return [run] if not any(t.gap for t in run[1:]) else _at_commas(run)
    out, start = [], 0
    for k in breaks:
        out.append(run[start:k])
        start = k
    out.append(run[start:])
    return out


def _at_commas(run: list[Token]) -> list[list[Token]]:
    out: list[list[Token]] = [[run[0]]]
    for token in run[1:]:
        if token.gap:
            out.append([token])
        else:
            out[-1].append(token)
    return out


def join_letter_runs(tokens: list[Token], wide: frozenset[int],
                     forms_of: Callable[[str], tuple[str, ...]]) -> list[Token]:
    """Rejoin letter runs word by word first (so ``l.i.t.t.l.e g.i.r.l`` stays two words), then across
    words; ``forms_of`` spells a joined run (the normaliser's ``token_forms``)."""

    def join(run: list[Token], spelled: bool) -> Token:
        raw = "".join(t.raw for t in run)
        return run[0]._replace(forms=forms_of(raw), last=run[-1].last, raw=raw, spelled=spelled)

    within: list[Token] = []
    for (_, is_single), group in groupby(tokens, key=lambda t: (t.first, _single(t))):
        run = list(group)
        joined = is_single and len(run) >= 2 and len({t.first for t in run}) == 1
        within.extend([join(run, False)] if joined else run)
    out: list[Token] = []
    for is_single, group in groupby(within, key=_single):
        run = list(group)
        if not is_single or len(run) < _MIN_RUN:
            out.extend(run)
            continue
        for piece in _pieces(run, wide):
            out.extend([join(piece, True)] if len(piece) >= 2 else piece)
    return out
