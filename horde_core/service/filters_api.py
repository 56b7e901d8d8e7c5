"""AI Horde's /v2/filters (issue 16) on top of this horde's own prompt-filter terms (moderators only).

AI Horde keeps regular expressions in three lists: types 10 and 11 are evidence of minors (either one adds one
to a prompt's suspicion), type 20 is sexual content (adds one more); a suspicion of 2 blocks the prompt. Our
filter (horde_core/safety/prompt_filter) has the same two-sided rule with weighted words, so the lists map:

- type 10: the words and phrases of `groups.underage` (every language section; new ones go to section "api"),
  with their `replacements` (what the replacement filter writes instead);
- type 11: `substring`, minors' words matched even inside other words;
- type 20: the words and phrases of `groups.sexual`.

"regex" is the term itself: plain words (any script), spaces, hyphens, apostrophes and, for 10 and 20, a final
"*" for a word prefix; real regular expressions are refused (our matcher normalises spelling tricks instead).
A new term weighs the group's threshold, so one match counts, as one regex match does on AI Horde. A filter's
id is derived from its type and term (stable across nodes and restarts); its description and the moderator
who last set it are kept beside the terms (key "api_filters"), "default terms" for the shipped ones.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from horde_core.models import Meta
from horde_core.safety.prompt_filter import load_default_terms
from horde_core.users.repo import UserRow

from .admin_schemas import FilterSpec
from .errors import BadRequest, NotFound
from .moderation import ModerationMixin
from .screening import TERMS_KEY

TYPES = (10, 11, 20)
GROUP = {10: "underage", 20: "sexual"}
NOTES = "api_filters"
SECTION = "api"
SHIPPED = "default terms"
_TERM = re.compile(r"^[^\W_](?:[\w' -]*[^\W_])?$")


@dataclass(frozen=True, slots=True)
class FilterInfo:
    id: str
    regex: str
    filter_type: int
    description: str | None
    replacement: str
    user: str


def filter_id(filter_type: int, term: str) -> str:
    digest = hashlib.sha256(f"{filter_type}:{term.casefold()}".encode()).hexdigest()
    return str(int(digest[:12], 16))


def _term(filter_type: int, regex: str) -> str:
    term = " ".join(regex.split())
    body = term[:-1] if term.endswith("*") and filter_type != 11 else term
    if filter_type not in TYPES:
        raise BadRequest("This horde has filter types 10 and 11 (minors) and 20 (sexual content).",
                         rc="InvalidFilterType")
    if not _TERM.match(body):
        raise BadRequest("This horde's filter holds words and phrases, not regular expressions: letters, digits, "
                         "spaces, ' and -, and a final * for a word prefix (not for type 11).", rc="InvalidFilterRegex")
    return term


def _entries(terms: dict[str, Any]) -> dict[str, FilterInfo]:
    notes = terms.get(NOTES, {})
    found: dict[str, FilterInfo] = {}

    def add(kind: int, term: str) -> None:
        fid = filter_id(kind, term)
        if fid not in found:
            note = notes.get(fid, {})
            replacement = str(terms.get("replacements", {}).get(term, "")) if kind == 10 else ""
            found[fid] = FilterInfo(fid, term, kind, note.get("description"), replacement,
                                    str(note.get("user", SHIPPED)))

    for kind, group in GROUP.items():
        for section in terms.get("groups", {}).get(group, {}).values():
            for term in section if isinstance(section, dict) else ():
                add(kind, term)
    for term in terms.get("substring", []):
        add(11, str(term))
    return found


def _remove(terms: dict[str, Any], info: FilterInfo) -> float | None:
    """Take a filter out of the terms; the weight it had (None for type 11)."""
    weight = None
    if info.filter_type in GROUP:
        for section in terms["groups"].get(GROUP[info.filter_type], {}).values():
            if isinstance(section, dict) and info.regex in section:
                weight = section.pop(info.regex)
        if info.filter_type == 10:
            terms.get("replacements", {}).pop(info.regex, None)
    else:
        terms["substring"] = [t for t in terms.get("substring", []) if t != info.regex]
    terms.get(NOTES, {}).pop(info.id, None)
    return weight


def _add(terms: dict[str, Any], info: FilterInfo, weight: float | None) -> None:
    if info.filter_type in GROUP:
        group = GROUP[info.filter_type]
        threshold = float(terms.get("thresholds", {}).get(group, 1.0))
        terms["groups"].setdefault(group, {}).setdefault(SECTION, {})[info.regex] = weight or threshold
        if info.filter_type == 10 and info.replacement:
            terms.setdefault("replacements", {})[info.regex] = info.replacement
    else:
        terms.setdefault("substring", []).append(info.regex)
    note = {"user": info.user, **({"description": info.description} if info.description else {})}
    terms.setdefault(NOTES, {})[info.id] = note


class FiltersMixin(ModerationMixin):
    async def list_filters(self, actor: UserRow, filter_type: int | None = None,
                           contains: str | None = None) -> list[FilterInfo]:
        self.require_moderator(actor)
        found = list(_entries(await self.filter_terms()).values())
        if filter_type is not None:
            found = [f for f in found if f.filter_type == filter_type]
        if contains:
            needle = contains.casefold()
            found = [f for f in found if needle in f.regex.casefold() or needle in (f.description or "").casefold()]
        return found

    async def filter_regexes(self, actor: UserRow, filter_type: int | None = None) -> list[dict[str, Any]]:
        """GET /v2/filters/regex: one regular expression per filter type, as AI Horde shows its moderators. Ours is
        the alternation of that type's terms (the filter itself matches them after normalisation, typos and all,
        so this is what the terms say, not everything the filter catches)."""
        by_type: dict[int, list[str]] = {}
        for f in await self.list_filters(actor, filter_type):
            term = f.regex  # a final "*" marks a prefix term: the word goes on
            by_type.setdefault(f.filter_type, []).append(
                re.escape(term[:-1]) + r"\w*" if term.endswith("*") else re.escape(term))
        return [{"filter_type": kind, "regex": "|".join(sorted(terms))} for kind, terms in sorted(by_type.items())]

    async def get_filter(self, actor: UserRow, fid: str) -> FilterInfo:
        self.require_moderator(actor)
        found = _entries(await self.filter_terms()).get(fid)
        if found is None:
            raise NotFound(f"Filter with ID '{fid[:40]}' not found.", rc="FilterNotFound")
        return found

    async def add_filter(self, actor: UserRow, spec: FilterSpec) -> FilterInfo:
        """PUT /v2/filters: a new term; an existing one is answered unchanged, as on AI Horde."""
        self.require_moderator(actor)
        if spec.regex is None or spec.filter_type is None:
            raise BadRequest("A filter needs a regex and a filter_type.", rc="MissingFilterField")
        term = _term(spec.filter_type, spec.regex)
        info = FilterInfo(filter_id(spec.filter_type, term), term, spec.filter_type, spec.description,
                          spec.replacement or "", actor.display_name)

        def change(terms: dict[str, Any]) -> FilterInfo | None:
            if info.id in _entries(terms):
                return None
            _add(terms, info, None)
            return info

        return await self._edit(actor, "filter_add", change) or await self.get_filter(actor, info.id)

    async def patch_filter(self, actor: UserRow, fid: str, spec: FilterSpec) -> FilterInfo:
        self.require_moderator(actor)
        if not (spec.regex or spec.filter_type or spec.description or spec.replacement):
            raise BadRequest("No filter patching selected!", rc="NoFilterModSelected")

        def change(terms: dict[str, Any]) -> FilterInfo | None:
            old = _entries(terms).get(fid)
            if old is None:
                raise NotFound(f"Filter with ID '{fid[:40]}' not found.", rc="FilterNotFound")
            kind = spec.filter_type or old.filter_type
            term = _term(kind, spec.regex or old.regex)
            new = FilterInfo(filter_id(kind, term), term, kind, spec.description or old.description,
                             spec.replacement or old.replacement, actor.display_name)
            if new.id != old.id and new.id in _entries(terms):
                raise BadRequest("Another filter already has this regex and type.", rc="FilterExists")
            weight = _remove(terms, old)
            _add(terms, new, weight if kind == old.filter_type else None)
            return new

        found = await self._edit(actor, "filter_edit", change)
        assert found is not None
        return found

    async def delete_filter(self, actor: UserRow, fid: str) -> None:
        self.require_moderator(actor)

        def change(terms: dict[str, Any]) -> FilterInfo | None:
            old = _entries(terms).get(fid)
            if old is None:
                raise NotFound(f"Filter with ID '{fid[:40]}' not found.", rc="FilterNotFound")
            _remove(terms, old)
            return old

        await self._edit(actor, "filter_delete", change)

    async def _edit(self, actor: UserRow, action: str,
                    change: Callable[[dict[str, Any]], FilterInfo | None]) -> FilterInfo | None:
        """Read, change and write the terms in one transaction (the row locked on PostgreSQL, the writer lock
        on SQLite), with the moderation log entry; nothing is written when `change` returns None."""
        async with self.db.transaction() as conn:
            stored = await conn.scalar(select(Meta.value).where(Meta.key == TERMS_KEY).with_for_update())
            terms = copy.deepcopy(load_default_terms() if stored is None else _loads(stored))
            found = change(terms)
            if found is None:
                return None
            built = await self._save_terms(conn, terms)
            await self._moderation_entry(conn, actor, action, f"filter:{found.id}",
                                         f"{action} type {found.filter_type}: {found.regex}",
                                         filter_type=found.filter_type, regex=found.regex)
        self._filter = (built, time.monotonic())
        return found

    async def prompt_suspicion(self, actor: UserRow, prompt: str, filter_type: int | None) -> dict[str, Any]:
        """POST /v2/filters: AI Horde's suspicion (2 means blocked) and the words that matched. With a filter
        type, only that side counts (10 and 11: minors; 20: sexual content)."""
        self.require_moderator(actor)
        if filter_type is not None and filter_type not in TYPES:
            raise BadRequest("This horde has filter types 10, 11 and 20.", rc="InvalidFilterType")
        verdict = (await self.prompt_filter()).check(prompt[:self.config.core.max_prompt_length])
        sides = {"underage": (10, 11), "sexual": (20,)}
        counted = [g for g in verdict.groups if filter_type is None or filter_type in sides.get(g, ())]
        suspicion = 2 if verdict.blocked and filter_type is None else min(len(counted), 1)
        matches = [m.split(":", 1)[1] for m in verdict.matches
                   if filter_type is None or filter_type in sides.get(m.split(":", 1)[0], ())]
        # AI Horde's FilterPromptSuspicion declares suspicion a string
        return {"suspicion": str(suspicion), "matches": matches}


def _loads(text: str) -> dict[str, Any]:
    found = json.loads(text)
    return found if isinstance(found, dict) else {}


__all__ = ["FilterInfo", "FiltersMixin", "filter_id"]
