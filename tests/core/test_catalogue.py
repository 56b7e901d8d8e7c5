"""The LoRA and textual-inversion catalogue: shipped entries, community additions, search order, and the
base-family check /generate asks before queueing."""

from __future__ import annotations

import pytest

from horde_core.catalogue import Entry, SearchIndex, load_shipped
from horde_core.service import HordeError, HordeService
from horde_core.service.catalogue import CatalogueIndexes

SCOPE = "discord:guild:1"


def test_shipped_catalogue_is_valid_and_has_both_kinds() -> None:
    shipped = load_shipped()
    assert len(shipped) >= 30
    kinds = {e.kind for e in shipped}
    assert kinds == {"lora", "ti"} and {e.family for e in shipped} >= {"sd1.5", "sdxl", "flux"}
    assert all(e.horde_name.isdigit() for e in shipped)  # CivitAI ids: what workers fetch


def test_search_ranks_name_prefixes_then_words_then_triggers() -> None:
    def lora(name: str, triggers: tuple[str, ...] = (), family: str = "sd1.5") -> Entry:
        return Entry("lora", name, name.lower().replace(" ", "_"), triggers, family)

    index = SearchIndex([lora("Paper Cut"), lora("Cutesy"), lora("Wood", ("cut out",)), lora("Shortcut"),
                         lora("Cut XL", family="sdxl")])
    names = [e.name for e in index.search("lora", "cut")]
    assert names == ["Cut XL", "Cutesy", "Paper Cut", "Shortcut", "Wood"]
    assert [e.name for e in index.search("lora", "CUT", family="sdxl")] == ["Cut XL"]
    assert [e.name for e in index.search("lora", "cut", limit=2)] == ["Cut XL", "Cutesy"]
    assert index.search("ti", "cut") == [] and index.get("lora", "paper_cut") is not None


async def test_communities_extend_the_catalogue(service: HordeService) -> None:
    assert not await service.catalogue_search(SCOPE, "lora", "glowing runes")
    entry = await service.catalogue_add(SCOPE, kind="lora", name="Glowing Runes", horde_name="51686",
                                        triggers="GlowingRunesAI, runes", family="sd1.5", size_mb=144,
                                        actor="discord:1")
    assert entry.triggers == ("GlowingRunesAI", "runes")
    assert [e.name for e in await service.catalogue_search(SCOPE, "lora", "glowing")] == ["Glowing Runes"]
    assert not await service.catalogue_search("discord:guild:2", "lora", "glowing")  # only there
    for kwargs, rc in (({"name": "Glowing Runes"}, "CatalogueEntryExists"),
                       ({"name": "Pixel Art XL"}, "CatalogueEntryExists"),  # ships already
                       ({"name": "New", "family": "sd9"}, "CatalogueEntryInvalid")):
        with pytest.raises(HordeError) as refused:
            await service.catalogue_add(SCOPE, **{"kind": "lora", "horde_name": "1", "triggers": "", "family": "sd1.5",
                                                  "size_mb": None, "actor": "a", **kwargs})  # type: ignore[arg-type]
        assert refused.value.rc == rc
    assert await service.catalogue_remove(SCOPE, "lora", "glowing runes") == 1
    assert not await service.catalogue_search(SCOPE, "lora", "glowing")
    with pytest.raises(HordeError):
        await service.catalogue_remove(SCOPE, "lora", "Pixel Art XL")  # shipped entries stay


async def test_a_change_on_another_node_shows_after_the_refresh(service: HordeService) -> None:
    other = HordeService(service.config, service.db, clock=service.clock)
    assert not await other.catalogue_search(SCOPE, "ti", "mine")
    await service.catalogue_add(SCOPE, kind="ti", name="Mine", horde_name="9", triggers="", family="sdxl",
                                size_mb=None, actor="a")
    assert not await other.catalogue_search(SCOPE, "ti", "mine")  # cached
    other.catalogue_indexes = CatalogueIndexes(other.catalogue_indexes.shipped, ttl=0.0)
    assert [e.name for e in await other.catalogue_search(SCOPE, "ti", "mine")] == ["Mine"]


async def test_compatibility_compares_base_families(service: HordeService) -> None:
    ok = await service.catalogue_check(SCOPE, "lora", "Pixel Art XL", "AlbedoBase XL (SDXL)")
    assert ok.ok and ok.entry is not None and ok.model_family == "sdxl"
    bad = await service.catalogue_check(SCOPE, "lora", "pixel art xl", "Deliberate")
    assert not bad.ok and "sdxl" in bad.message and "sd1.5" in bad.message
    by_id = await service.catalogue_check(SCOPE, "ti", "7808", "Deliberate")  # EasyNegative by its CivitAI id
    assert by_id.ok and by_id.entry is not None and by_id.entry.name == "EasyNegative"
    custom = await service.catalogue_check(SCOPE, "lora", "Pixel Art XL", "my-own-merge")
    assert custom.ok and custom.model_family is None  # nothing to check against
    unknown = await service.catalogue_check(SCOPE, "lora", "no such thing", "Deliberate")
    assert not unknown.ok and unknown.entry is None
    assert "AlbedoBase XL (SDXL)" in service.models_of_family("sdxl")
