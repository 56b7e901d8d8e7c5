"""Searching thousands of entries on every keystroke of an autocomplete.

Names are kept sorted, so entries whose name starts with what was typed are one binary search away;
everything else (a word inside a name, a trigger word, a CivitAI id) is found by `str.find` over one
joined text per kind, which runs in C: a 5,000-entry catalogue is searched in well under a millisecond.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

from .entries import Entry

_SEP = "\n"
_NOT_WORD = re.compile(r"\W+")


class _KindIndex:
    __slots__ = ("entries", "names", "starts", "text", "words")

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = sorted(entries, key=lambda e: (e.name.casefold(), e.name))
        self.names = [e.name.casefold() for e in self.entries]
        self.words = [" " + _NOT_WORD.sub(" ", n) for n in self.names]  # " " before every word of the name
        parts = [" ".join((n, *(t.casefold() for t in e.triggers), e.horde_name.casefold()))
                 for n, e in zip(self.names, self.entries)]
        self.starts: list[int] = []
        offset = 0
        for part in parts:
            self.starts.append(offset)
            offset += len(part) + len(_SEP)
        self.text = _SEP.join(parts)

    def search(self, query: str, limit: int, family: str | None) -> list[Entry]:
        if not query:
            return [e for e in self.entries if family is None or e.family == family][:limit]
        first: list[Entry] = []  # the name starts with the query
        lo = bisect_left(self.names, query)
        hi = bisect_right(self.names, query + "\uffff", lo)
        for i in range(lo, hi):
            if family is None or self.entries[i].family == family:
                first.append(self.entries[i])
                if len(first) >= limit:
                    return first
        words: list[Entry] = []  # a word of the name starts with it
        rest: list[Entry] = []  # it is inside the name, a trigger word or the CivitAI id
        text, starts, count = self.text, self.starts, len(self.starts)
        word = " " + query
        pos = text.find(query)
        while pos >= 0 and len(first) + len(words) < limit:
            i = bisect_right(starts, pos) - 1
            entry = self.entries[i]
            if not (lo <= i < hi) and (family is None or entry.family == family):
                (words if word in self.words[i] else rest).append(entry)
            pos = text.find(query, starts[i + 1]) if i + 1 < count else -1  # on to the next entry
        return (first + words + rest)[:limit]


class SearchIndex:
    """An immutable index over one community's catalogue (the shipped entries plus its own)."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        everything = list(entries)
        self._by_kind = {kind: _KindIndex([e for e in everything if e.kind == kind])
                         for kind in {e.kind for e in everything} | {"lora", "ti"}}
        self._by_name = {(e.kind, e.name.casefold()): e for e in everything}
        self._by_horde_name = {(e.kind, e.horde_name.casefold()): e for e in everything}
        self.size = len(everything)

    def search(self, kind: str, query: str, *, family: str | None = None, limit: int = 25) -> list[Entry]:
        """Best matches first: names starting with the query, then names with a word starting with it, then
        trigger words and CivitAI ids containing it (case-insensitive)."""
        index = self._by_kind.get(kind)
        if index is None:
            return []
        return index.search(query.strip().casefold(), limit, family)

    def get(self, kind: str, name: str) -> Entry | None:
        """An entry by its name, or by the horde name (CivitAI id) a member may have typed."""
        key = (kind, name.strip().casefold())
        return self._by_name.get(key) or self._by_horde_name.get(key)
