"""One piece of evidence found in a prompt (shared by the matcher, the age detector and the rewriter)."""

from __future__ import annotations

from dataclasses import dataclass

from horde_core.safety.prompt_filter.terms import Entry

__all__ = ["Hit"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One piece of evidence: the entry it fed, how it was found, and the original words it covers."""

    entry: Entry
    how: str
    source: str
    first: int = -1
    last: int = -1

    def label(self) -> str:
        """Compact audit-log form, e.g. ``underage:child`` or ``sexual:naked~fuzzy(nakde)``."""
        base = f"{self.entry.group}:{self.entry.term}"
        return base if self.how in ("exact", "phrase") else f"{base}~{self.how}({self.source})"
