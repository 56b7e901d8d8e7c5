"""/gallery through the real CommandTree: private by default, paged, starred, and run again through the
generate feature's own buttons, also after a restart."""

from __future__ import annotations

import asyncio

from horde_core.config import AppConfig
from horde_core.service import HordeService
from tests.bot.conftest import build_bot
from tests.bot.harness import DiscordHarness
from tests.bot.test_generate import MODEL, _worker


async def _generate(h: DiscordHarness, worker, prompt: str, member_index: int = 1) -> str:  # type: ignore[no-untyped-def]
    serving = asyncio.create_task(worker.serve(len(worker.served) + 1))
    rec = await h.slash("generate", {"prompt": prompt, "model": MODEL}, user=h.member(member_index))
    await serving
    return next(c for c in rec.original.custom_ids if c.startswith("gen:vary:")).split(":")[2]


async def test_gallery_pages_stars_and_survives_a_restart(h: DiscordHarness, service: HordeService, server,
                                                          config: AppConfig) -> None:
    empty = await h.slash("gallery", user=h.member(1))
    assert empty.ephemeral and "no images yet" in empty.content
    worker = await _worker(service, server)
    first = await _generate(h, worker, "a red fox")
    service.clock.advance(5)  # type: ignore[attr-defined]
    second = await _generate(h, worker, "a blue jay")
    await _generate(h, worker, "someone else's", member_index=2)

    shown = await h.slash("gallery", user=h.member(1))
    assert shown.ephemeral and shown.embeds[0]["description"] == "a blue jay"
    assert shown.files and shown.files[0].filename == "gallery.webp"
    assert shown.embeds[0]["footer"]["text"] == "1 of 2"
    user = h.member(1).id
    assert f"gal:star:{user}:0:0:{second}:1" in shown.custom_ids
    assert f"gen:vary:{second}:0" in shown.custom_ids and any(c.startswith("gen:retry:") for c in shown.custom_ids)

    await h.restart(build_bot(config, service))
    older = await h.click(shown, f"gal:go:{user}:0:1:o", user=h.member(1))
    assert older.type == 7 and older.original.embeds[0]["description"] == "a red fox"
    starred = await h.click(older.original, f"gal:star:{user}:0:1:{first}:1", user=h.member(1))
    assert starred.original.embeds[0]["title"].startswith("⭐")
    assert f"gal:star:{user}:0:1:{first}:0" in starred.original.custom_ids  # it unstars now
    favourites = await h.slash("gallery", {"favourites": True}, user=h.member(1))
    assert favourites.embeds[0]["description"] == "a red fox" and favourites.embeds[0]["footer"]["text"] == "1 of 1"
    unstarred = await h.click(favourites, f"gal:star:{user}:1:0:{first}:0", user=h.member(1))
    assert "starred no images" in unstarred.original.content and unstarred.original.custom_ids == []

    # run it again: the generate feature's Retry button answers (the same request, paid by the member)
    current = starred.original  # the first gallery message, now showing the red fox
    rerun = next(c for c in current.custom_ids if c.startswith("gen:retry:"))
    serving = asyncio.create_task(worker.serve(len(worker.served) + 1))
    again = await h.click(current, rerun, user=h.member(1))
    await serving
    assert again.original.embeds[0]["description"] == "a red fox" and again.original.files and not again.ephemeral
    member = await service.user_for_identity(f"discord:{h.member(1).id}", "m")
    assert member.kudos == config.bot.starting_kudos - 3 * 9  # two /generate and the run again


async def test_a_shared_gallery_pages_only_for_its_owner(h: DiscordHarness, service: HordeService, server) -> None:
    worker = await _worker(service, server)
    await _generate(h, worker, "a lighthouse")
    shared = await h.slash("gallery", {"share": True}, user=h.member(1))
    assert not shared.ephemeral
    star = next(c for c in shared.custom_ids if c.startswith("gal:star:"))
    refused = await h.click(shared, star, user=h.member(2))
    assert refused.ephemeral and "someone else's gallery" in refused.content
    assert (await service.gallery_page((await service.user_for_identity(f"discord:{h.member(1).id}", "m")).id)
            ).entry.favourite is False  # type: ignore[union-attr]
