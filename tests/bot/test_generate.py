"""/generate end to end: the real bot, the core, and a test worker over HTTP; buttons after a restart."""

from __future__ import annotations

import asyncio
import io

import aiohttp
from PIL import Image

from cogs.generate._views import progress_view
from horde_core.clock import FakeClock
from horde_core.config import AppConfig
from horde_core.service import HordeService
from tests.bot.conftest import build_bot
from tests.bot.harness import DiscordHarness

MODEL = "stable_diffusion"


def webp(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buf, format="WEBP")
    return buf.getvalue()


class FakeWorker:
    """A clearly fake GPU worker: pops over HTTP and uploads a solid-colour WebP per job."""

    def __init__(self, server, key: str, name: str = "Test GPU") -> None:  # type: ignore[no-untyped-def]
        self.server, self.key, self.name = server, key, name
        self.served: list[dict] = []  # type: ignore[type-arg]

    async def pop(self, http: aiohttp.ClientSession) -> dict:  # type: ignore[type-arg]
        async with http.post(self.server.make_url("/api/v2/generate/pop"), headers={"apikey": self.key},
                             json={"name": self.name, "models": [MODEL], "max_pixels": 2048 * 2048,
                                   "allow_img2img": True, "nsfw": False}) as r:
            return await r.json()

    async def serve(self, jobs: int) -> None:
        async with aiohttp.ClientSession() as http:
            for _ in range(2000):  # bounded: the bot's request appears within a few loop turns
                if len(self.served) >= jobs:
                    return
                pop = await self.pop(http)
                if not pop["id"]:
                    await asyncio.sleep(0.005)
                    continue
                for job_id, url in zip(pop["ids"], pop["r2_uploads"]):
                    assert (await http.put(url, data=webp((200, 40, 40)))).status == 200
                    async with http.post(self.server.make_url("/api/v2/generate/submit"),
                                         headers={"apikey": self.key},
                                         json={"id": job_id, "generation": "R2", "state": "ok"}) as r:
                        assert r.status == 200
                    self.served.append(pop)
        raise AssertionError("the worker never got the expected jobs")


async def _worker(service: HordeService, server) -> FakeWorker:  # type: ignore[no-untyped-def]
    _, key = await service.create_user("gpu-owner")
    worker = FakeWorker(server, key)
    async with aiohttp.ClientSession() as http:
        assert (await worker.pop(http))["id"] is None  # online, serving MODEL
    return worker


async def test_generate_delivers_images_with_buttons_that_survive_a_restart(
        h: DiscordHarness, service: HordeService, server, config: AppConfig) -> None:
    worker = await _worker(service, server)
    serving = asyncio.create_task(worker.serve(2))
    rec = await h.slash("generate", {"prompt": "a lighthouse at dusk", "images": 2, "model": MODEL, "seed": "7"},
                        user=h.member(1))
    await serving
    assert rec.type == 5 and not rec.ephemeral  # deferred at once, publicly
    final = rec.original
    assert len(final.files) == 2 and all(f.filename.endswith(".webp") for f in final.files)
    assert Image.open(io.BytesIO(final.files[0].data)).size == (64, 64)
    embed = final.embeds[0]
    assert embed["description"] == "a lighthouse at dusk"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Model"] == MODEL and fields["Worker"] == "Test GPU"
    assert sorted(fields["Seed"].split(", ")) == ["7", "8"]
    assert fields["Kudos"] == str(2 * (6 + 3))  # 512x512, 30 steps: 6 kudos + 3 tax, twice
    ids = final.custom_ids
    assert any(c.startswith("gen:reroll:") for c in ids) and f"gen:delete:{h.member(1).id}" in ids
    assert sum(c.startswith("gen:vary:") for c in ids) == 2
    progress_edits = [e for e in rec.edits if e.get("embeds") and e["embeds"][0]["title"] == "Generating…"]
    assert 1 <= len(progress_edits) <= 2  # shown at once, then at most every 5 s
    assert any(c.startswith("gen:cancel:") for c in (progress_edits[0]["components"][0]["components"][0]["custom_id"],))

    # the request carried the member's identity, not the bot's
    outline = await service.request_outline(next(c for c in ids if c.startswith("gen:reroll:")).split(":")[2])
    assert outline["proxied_account"] == f"discord:{h.guild.id}:{h.member(1).id}"
    member_user = await service.user_for_identity(f"discord:{h.member(1).id}", "x")
    assert outline["user_id"] == member_user.id and member_user.kudos == config.bot.starting_kudos - 18

    await h.restart(build_bot(config, service))
    serving = asyncio.create_task(worker.serve(4))
    reroll = await h.click(final, next(c for c in ids if c.startswith("gen:reroll:")), user=h.member(2))
    await serving
    rerolled = {f["name"]: f["value"] for f in reroll.original.embeds[0]["fields"]}
    assert rerolled["Seed"] != "7, 8" and len(reroll.original.files) == 2
    clicker = await service.user_for_identity(f"discord:{h.member(2).id}", "x")
    assert clicker.kudos == config.bot.starting_kudos - 18  # whoever rerolls pays

    refused = await h.click(final, f"gen:delete:{h.member(1).id}", user=h.member(2))
    assert refused.ephemeral and "moderator" in refused.content and not final.deleted
    deleted = await h.click(final, f"gen:delete:{h.member(1).id}", user=h.member(1))
    assert deleted.type == 6 and final.deleted


async def test_vary_starts_from_the_chosen_image(h: DiscordHarness, service: HordeService, server) -> None:
    worker = await _worker(service, server)
    serving = asyncio.create_task(worker.serve(1))
    rec = await h.slash("generate", {"prompt": "a cat", "model": MODEL}, user=h.member(1))
    await serving
    vary_id = next(c for c in rec.original.custom_ids if c.startswith("gen:vary:"))
    serving = asyncio.create_task(worker.serve(2))
    varied = await h.click(rec.original, vary_id, user=h.member(1))
    await serving
    assert worker.served[-1]["source_processing"] == "img2img" and worker.served[-1]["source_image"]
    assert len(varied.original.files) == 1


async def test_refusals_name_the_limit_and_cost_nothing(h: DiscordHarness, service: HordeService, server) -> None:
    await _worker(service, server)
    too_many = await h.slash("generate", {"prompt": "x", "steps": 80, "model": MODEL}, user=h.member(1))
    assert too_many.original.deleted and too_many.followups[-1].ephemeral
    assert "at most 50 steps" in too_many.followups[-1].content
    await service.update_community_settings(f"discord:guild:{h.guild.id}", {"max_size": 768}, "admin")
    big = await h.slash("generate", {"prompt": "x", "size": "large", "model": MODEL}, user=h.member(1))
    assert "up to 768 pixels" in big.followups[-1].content
    unserved = await h.slash("generate", {"prompt": "x", "model": "Deliberate"}, user=h.member(1))
    assert "No worker serves `Deliberate`" in unserved.followups[-1].content and MODEL in unserved.followups[-1].content
    user = await service.user_for_identity(f"discord:{h.member(1).id}", "x")
    assert user.kudos == service.config.bot.starting_kudos
    await service.update_community_settings(f"discord:guild:{h.guild.id}", {"generate": False}, "admin")
    off = await h.slash("generate", {"prompt": "x"}, user=h.member(1))
    assert "switched off" in off.followups[-1].content


async def test_not_enough_kudos_says_how_to_earn(h: DiscordHarness, service: HordeService, server) -> None:
    await _worker(service, server)
    await service.update_community_settings(f"discord:guild:{h.guild.id}", {"max_size": 3072, "max_steps": 500},
                                            "admin")
    rec = await h.slash("generate", {"prompt": "x", "size": "large", "steps": 500, "images": 4, "model": MODEL},
                        user=h.member(1))
    answer = rec.followups[-1]
    assert answer.ephemeral and "/worker key" in answer.content and "kudos" in answer.content


async def test_model_autocomplete_shows_workers_and_queue(h: DiscordHarness, service: HordeService, server) -> None:
    await _worker(service, server)
    choices = await h.autocomplete("generate", "model", "stable", options={"prompt": "x"}, user=h.member(1))
    assert choices and choices[0]["value"] == MODEL and "1 workers" in choices[0]["name"]


async def test_cancel_is_for_the_requester_and_refunds(h: DiscordHarness, service: HordeService, server) -> None:
    await _worker(service, server)
    rec = await h.slash("generate", {"prompt": "never mind", "model": MODEL}, user=h.member(1), wait=False)
    custom_id = await h.until(lambda: next((c for c in rec.original.custom_ids if c.startswith("gen:cancel:")), None),
                              what="the progress with its Cancel button")
    rid = custom_id.split(":")[2]
    assert custom_id == f"gen:cancel:{rid}:{h.member(1).id}" and custom_id == progress_view(
        rid, h.member(1).id).children[0].custom_id  # type: ignore[attr-defined]
    other = await h.click(rec.original, custom_id, user=h.member(2))
    assert other.ephemeral and "Only the member" in other.content
    assert (await service.check(rid)).waiting == 1
    owner = await h.click(rec.original, custom_id, user=h.member(1))
    assert owner.ephemeral and "Cancelled" in owner.content
    progress = await service.check(rid)
    assert progress.waiting == 0 and progress.done
    await h.drain(rec)  # the reply says so at once (the click woke the courier)
    assert "cancelled" in rec.original.content and any(c.startswith("gen:retry:") for c in rec.original.custom_ids)
    user = await service.user_for_identity(f"discord:{h.member(1).id}", "x")
    assert user.kudos == service.config.bot.starting_kudos


async def test_timeout_offers_a_retry(h: DiscordHarness, service: HordeService, server, clock: FakeClock) -> None:
    worker = await _worker(service, server)
    await service.update_community_settings(f"discord:guild:{h.guild.id}", {"long_queues": "cancel"}, "admin")
    rec = await h.slash("generate", {"prompt": "slow", "model": MODEL}, user=h.member(1), wait=False)
    await h.until(lambda: rec.original.embeds, what="the progress")
    clock.advance(14 * 60)  # nobody served it while Discord let the bot edit its reply
    await h.bot.deliveries.sweep()
    await h.drain(rec)
    assert "in time" in rec.original.content
    retry = next(c for c in rec.original.custom_ids if c.startswith("gen:retry:"))
    serving = asyncio.create_task(worker.serve(1))
    again = await h.click(rec.original, retry, user=h.member(1))
    await serving
    assert len(again.original.files) == 1
    user = await service.user_for_identity(f"discord:{h.member(1).id}", "x")
    assert user.kudos == service.config.bot.starting_kudos - 9  # the timed-out one was refunded


async def test_a_blocked_prompt_is_refused_privately_and_charged_to_the_member(
        h: DiscordHarness, service: HordeService, server) -> None:
    await _worker(service, server)
    rec = await h.slash("generate", {"prompt": "n a k e d little girl", "model": MODEL}, user=h.member(1))
    answer = rec.followups[-1]
    assert rec.original.deleted and answer.ephemeral and "blocked" in answer.content
    strikes = await service.community_strikes(f"discord:{h.guild.id}")
    assert [s["subject"] for s in strikes] == [f"member:discord:{h.guild.id}:{h.member(1).id}"]
    again = await h.slash("generate", {"prompt": "a cat", "model": MODEL}, user=h.member(1))
    assert "timed out" in again.followups[-1].content  # the member, not the bot, is timed out
    worker = FakeWorker(server, (await service.create_user("gpu2"))[1], "Other GPU")
    serving = asyncio.create_task(worker.serve(1))
    other = await h.slash("generate", {"prompt": "a cat", "model": MODEL}, user=h.member(2))
    await serving
    assert len(other.original.files) == 1  # everyone else in the guild keeps generating


async def test_the_requester_rates_each_image_even_after_a_restart(h: DiscordHarness, service: HordeService,
                                                                   server, config: AppConfig) -> None:
    worker = await _worker(service, server)
    serving = asyncio.create_task(worker.serve(2))
    rec = await h.slash("generate", {"prompt": "two lighthouses", "images": 2, "model": MODEL}, user=h.member(1))
    await serving
    rate_id = next(c for c in rec.original.custom_ids if c.startswith("gen:rate:"))
    refused = await h.click(rec.original, rate_id, user=h.member(2))
    assert refused.ephemeral and "Only the member" in refused.content
    asked = await h.click(rec.original, rate_id, user=h.member(1))
    assert asked.ephemeral and "image 1 of 2" in asked.content and len(asked.files) == 1
    scores = [c for c in asked.custom_ids if c.startswith("gen:score:")]
    assert len(scores) == 10 and scores[-1].endswith(":10")
    before = (await service.user_for_identity(f"discord:{h.member(1).id}", "x")).kudos
    await h.restart(build_bot(config, service))
    first = await h.click(asked, scores[-1], user=h.member(1))
    assert first.type == 7 and "earned 5 kudos" in first.content and "image 2 of 2" in first.content
    second_scores = [c for c in first.custom_ids if c.startswith("gen:score:")]
    done = await h.click(first, second_scores[6], user=h.member(1))
    assert "Every image of this request is rated" in done.content and not done.custom_ids
    member = await service.user_for_identity(f"discord:{h.member(1).id}", "x")
    assert member.kudos == before + 10 and await service.ratings_count(member.id) == 2


async def test_words_the_server_blocks_are_refused_before_anything_is_queued(
        h: DiscordHarness, service: HordeService, server) -> None:
    admin = h.member(0)
    await h.grant(admin, manage_guild=True)
    done = await h.slash("settings set", {"key": "blocked_words", "value": "ham, red fox"}, user=admin)
    assert done.ephemeral
    refused = await h.slash("generate", {"prompt": "a RED FOX in snow", "model": MODEL}, user=h.member(1))
    answer = refused.followups[-1]
    assert answer.ephemeral and "`red fox`" in answer.content
    negative = await h.slash("generate", {"prompt": "a pig", "negative": "ham", "model": MODEL}, user=h.member(1))
    assert "`ham`" in negative.followups[-1].content
    user = await service.user_for_identity(f"discord:{h.member(1).id}", "x")
    assert await service.jobs_since(user.id, "image", 0) == 0  # nothing was queued, nothing charged
    worker = await _worker(service, server)
    serving = asyncio.create_task(worker.serve(1))
    fine = await h.slash("generate", {"prompt": "a hamster", "model": MODEL}, user=h.member(1))
    await serving
    assert len(fine.original.files) == 1  # "ham" blocks the word, not every word containing it
