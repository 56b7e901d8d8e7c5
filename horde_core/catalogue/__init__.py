"""The LoRA and textual-inversion catalogue: entries shipped with hordebot, those each community adds,
and a search index fast enough for Discord's autocomplete (which must answer within 3 s)."""

from .entries import KINDS, Entry, load_shipped
from .index import SearchIndex

__all__ = ["KINDS", "Entry", "SearchIndex", "load_shipped"]
