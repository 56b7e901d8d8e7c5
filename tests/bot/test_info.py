"""/models, /workers (and its maintenance switch after a restart), /news, /status and /catalogue through the
real CommandTree."""

from __future__ import annotations

import aiohttp

from horde_core.config import AppConfig, NewsItem
from horde_core.service import HordeService
from tests.bot.conftest import build_bot
from tests.bot.harness import DiscordHarness
from tests.bot.test_generate import MODEL, _worker
from tests.helpers import image_request


async def _member_worker(h: DiscordHarness, service: HordeService, server, index: int = 1) -> str:  # type: ignore[no-untyped-def]
    """A worker owned by a member (as `/worker key` would set up), online; its id."""
    user = await service.user_for_identity(f"discord:{h.member(index).id}", "m")
    key = await service.regenerate_key(user.id)
    async with aiohttp.ClientSession() as http, http.post(
            server.make_url("/api/v2/generate/pop"), headers={"apikey": key},
            json={"name": "Member GPU", "models": [MODEL]}) as r:
        assert r.status == 200
    return (await service.get_worker(name="Member GPU")).id


async def test_models_says_when_nothing_is_served(h: DiscordHarness) -> None:
    empty = await h.slash("models", user=h.member(1))
    assert empty.ephemeral and "No worker" in empty.embeds[0]["description"]


async def test_models_and_status_show_what_is_served_and_queued(h: DiscordHarness, service: HordeService,
                                                                server) -> None:
    await _worker(service, server)
    requester, _ = await service.create_user("someone", kudos=100)
    await service.request_images(requester, image_request(models=[MODEL]))
    served = await h.slash("models", user=h.member(1))
    assert f"**{MODEL}**: 1 workers, 1 queued" in served.embeds[0]["description"]
    status = await h.slash("status", user=h.member(1))
    fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    assert status.ephemeral and set(fields) == {"Images", "Text", "Alchemy"}
    assert "1 workers" in fields["Images"] and "1 waiting" in fields["Images"]
    assert "nobody serves this now" in fields["Text"]


async def test_workers_switch_is_for_owners_and_survives_a_restart(h: DiscordHarness, service: HordeService,
                                                                   server, config: AppConfig) -> None:
    await _worker(service, server)  # someone else's
    worker_id = await _member_worker(h, service, server)
    shown = await h.slash("workers", user=h.member(1))
    assert shown.ephemeral and "Test GPU" in shown.embeds[0]["description"]
    assert "⭐ **Member GPU**" in shown.embeds[0]["description"]
    assert shown.custom_ids == [f"info:maint:{worker_id}:1"]  # only their own worker has a switch
    other = await h.slash("workers", user=h.member(2))
    assert other.custom_ids == []

    await h.restart(build_bot(config, service))
    switched = await h.click(shown, f"info:maint:{worker_id}:1", user=h.member(1))
    assert switched.type == 7 and "maintenance" in switched.original.content
    assert (await service.get_worker(worker_id)).maintenance_mode
    assert switched.original.custom_ids == [f"info:maint:{worker_id}:0"]  # now it switches back
    back = await h.click(switched.original, f"info:maint:{worker_id}:0", user=h.member(1))
    assert not (await service.get_worker(worker_id)).maintenance_mode and "again" in back.original.content


async def test_operators_switch_any_worker(h: DiscordHarness, service: HordeService, server,
                                           config: AppConfig) -> None:
    worker_id = await _member_worker(h, service, server)
    config.bot.owner_ids = [h.member(2).id]
    shown = await h.slash("workers", user=h.member(2))
    assert shown.custom_ids == [f"info:maint:{worker_id}:1"] and "Your workers" not in str(shown.embeds)
    await h.click(shown, f"info:maint:{worker_id}:1", user=h.member(2))
    assert (await service.get_worker(worker_id)).maintenance_mode


async def test_news_shows_the_operators_news_newest_first(h: DiscordHarness, config: AppConfig) -> None:
    welcome = await h.slash("news", user=h.member(1))
    assert "Welcome to hordebot" in welcome.embeds[0]["fields"][0]["name"]
    config.core.news = [NewsItem(date="2026-11-01", text="Old news."),
                        NewsItem(date="2026-12-01", title="New GPUs", text="Two more workers.", url="https://x.y")]
    news = await h.slash("news", user=h.member(1))
    names = [f["name"] for f in news.embeds[0]["fields"]]
    assert names == ["2026-12-01 · New GPUs", "2026-11-01 · Information"]
    assert news.embeds[0]["fields"][0]["value"] == "Two more workers.\nhttps://x.y"


async def test_catalogue_autocompletes_and_shows_an_entry(h: DiscordHarness) -> None:
    choices = await h.autocomplete("catalogue", "name", "pixel", user=h.member(1))
    assert choices[0]["value"] == "Pixel Art XL" and "sdxl" in choices[0]["name"]
    assert [c["value"] for c in await h.autocomplete("catalogue", "name", "easyneg", options={"kind": "ti"},
                                                      user=h.member(1))] == ["EasyNegative"]
    shown = await h.slash("catalogue", {"name": "Pixel Art XL"}, user=h.member(1))
    fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
    assert fields["Base model"] == "sdxl" and fields["Trigger words"] == "pixel art"
    assert "civitai.com/models/120096" in fields["CivitAI"] and "AlbedoBase XL (SDXL)" in fields["Works with"]
    missing = await h.slash("catalogue", {"name": "nope"}, user=h.member(1))
    assert missing.ephemeral and "not in the catalogue" in missing.content
