"""The LoRA and textual-inversion catalogue: search for autocomplete, community additions, and whether an
entry fits a model (its base family against the model reference's), which /generate asks before queueing."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from horde_core.catalogue import Entry, SearchIndex, load_shipped
from horde_core.catalogue import repo as catalogue_repo
from horde_core.catalogue.entries import KIND_NAMES, EntryError, parse_triggers

from .base import ServiceBase
from .errors import BadRequest, HordeError, NotFound


class CatalogueIndexes:
    """One search index per community: the shipped entries plus the community's own.

    A local change replaces the community's index at once; another node's change shows up here after at
    most `ttl` seconds. Concurrent misses build the index once (autocomplete fires on every keystroke).
    """

    def __init__(self, shipped: list[Entry], ttl: float) -> None:
        self.shipped = shipped
        self.ttl = ttl
        self.base = SearchIndex(shipped)
        self._by_community: dict[str, tuple[float, SearchIndex]] = {}
        self._building: dict[str, asyncio.Lock] = {}

    def fresh(self, community: str) -> SearchIndex | None:
        hit = self._by_community.get(community)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        return None

    def lock(self, community: str) -> asyncio.Lock:
        return self._building.setdefault(community, asyncio.Lock())

    def put(self, community: str, own: list[Entry]) -> SearchIndex:
        index = SearchIndex([*self.shipped, *own]) if own else self.base
        if len(self._by_community) > 10_000:
            self._by_community.clear()
        self._by_community[community] = (time.monotonic(), index)
        return index

    def forget(self, community: str) -> None:
        self._by_community.pop(community, None)


@dataclass(frozen=True, slots=True)
class Compatibility:
    """Whether a catalogue entry may be used with a model. `ok` False comes with a message for the member."""

    ok: bool
    entry: Entry | None
    model_family: str | None  # None: a custom model (nothing to check) or any model
    message: str = ""


class CatalogueMixin(ServiceBase):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        core = self.config.core
        self.catalogue_indexes = CatalogueIndexes(load_shipped(), core.catalogue_refresh_seconds)

    async def _catalogue(self, community: str) -> SearchIndex:
        indexes = self.catalogue_indexes
        if not community:
            return indexes.base
        index = indexes.fresh(community)
        if index is not None:
            return index
        async with indexes.lock(community):
            index = indexes.fresh(community)
            if index is None:
                async with self.db.read() as conn:
                    own = await catalogue_repo.community_entries(conn, community)
                index = indexes.put(community, own)
        return index

    async def catalogue_search(self, community: str, kind: str, query: str, *, family: str | None = None,
                               limit: int = 25) -> list[Entry]:
        """Entries for an autocomplete: the best `limit` matches of what was typed so far."""
        return (await self._catalogue(community)).search(kind, query, family=family, limit=limit)

    async def catalogue_entry(self, community: str, kind: str, name: str) -> Entry | None:
        return (await self._catalogue(community)).get(kind, name)

    async def catalogue_add(self, community: str, *, kind: str, name: str, horde_name: str, triggers: str,
                            family: str, size_mb: float | None, actor: str) -> Entry:
        """A community's own entry beside the shipped ones (validated; names are unique per kind)."""
        try:
            entry = Entry(kind=kind, name=name.strip(), horde_name=horde_name.strip(),
                          triggers=parse_triggers(triggers), family=family, size_mb=size_mb, community=True)
        except EntryError as exc:
            raise BadRequest(str(exc), rc="CatalogueEntryInvalid") from None
        if self.catalogue_indexes.base.get(kind, entry.name) is not None:
            raise HordeError(f"`{entry.name}` already ships with the catalogue.", rc="CatalogueEntryExists")
        if (await self._catalogue(community)).get(kind, entry.name) is not None:  # names differ in more than case
            raise HordeError(f"This community already has a {KIND_NAMES[kind]} called `{entry.name}`.",
                             rc="CatalogueEntryExists")
        limit = self.config.core.catalogue_max_per_community
        async with self.db.transaction() as conn:
            if await catalogue_repo.count(conn, community) >= limit:
                raise HordeError(f"This community already has {limit} catalogue entries; remove some first.",
                                 rc="CatalogueFull")
            if not await catalogue_repo.add(conn, community, entry, actor, self.clock.now()):
                raise HordeError(f"This community already has a {KIND_NAMES[kind]} called `{entry.name}`.",
                                 rc="CatalogueEntryExists")
        self.catalogue_indexes.forget(community)
        return entry

    async def catalogue_remove(self, community: str, kind: str, name: str) -> int:
        """Remove a community's own entry (shipped entries stay); NotFound when it has none by that name."""
        async with self.db.transaction() as conn:
            removed = await catalogue_repo.remove(conn, community, kind, name)
        if not removed:
            raise NotFound(f"This community added no {KIND_NAMES.get(kind, kind)} called `{name}` "
                           "(shipped entries cannot be removed).", rc="CatalogueEntryNotFound")
        self.catalogue_indexes.forget(community)
        return removed

    async def catalogue_community_entries(self, community: str) -> list[Entry]:
        async with self.db.read() as conn:
            return sorted(await catalogue_repo.community_entries(conn, community), key=lambda e: (e.kind, e.name))

    async def catalogue_check(self, community: str, kind: str, name: str, model: str | None) -> Compatibility:
        """Whether the entry called `name` fits `model`: same base family as the model reference gives it.

        Unknown entries are refused (members pick from the catalogue; admins extend it). A custom model, or
        none ("any model"), cannot be checked: the entry passes and the caller should limit the request to
        models of `entry.family` (see `models_of_family`)."""
        entry = await self.catalogue_entry(community, kind, name)
        what = KIND_NAMES.get(kind, kind)
        if entry is None:
            return Compatibility(False, None, None, f"`{name}` is not in this server's catalogue: pick a {what} "
                                 "from the list (admins add more with `/settings catalogue add`).")
        family = self.reference.family(model) if model else None
        if family is None or family == entry.family:
            return Compatibility(True, entry, family)
        return Compatibility(False, entry, family, f"The {what} `{entry.name}` is made for {entry.family} models, "
                             f"and `{model}` is a {family} model. Pick a {entry.family} model or another {what}.")

    def models_of_family(self, family: str) -> list[str]:
        """Known image models of a base family (what a request with a LoRA of that family may run on)."""
        return [m.name for m in self.reference.models("image") if m.family == family]
