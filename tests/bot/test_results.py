"""A /generate result's buttons through the real CommandTree, with a fake worker and a fake alchemist over HTTP:
Star, Info, Delete, Run again, Remix, and Upscale / Fix faces / Remove background (new messages that keep the
original), also after a restart; refusals are private and cost nothing."""

from __future__ import annotations

import asyncio
import io

from PIL import Image

from horde_core.clock import FakeClock
from horde_core.config import AppConfig
from horde_core.service import HordeService
from tests.bot.conftest import build_bot
from tests.bot.harness import TOKEN_LIFETIME, DiscordHarness, InteractionRecord
from tests.bot.social import kudos
from tests.bot.test_describe import _alchemist
from tests.bot.test_generate import MODEL, FakeWorker, _worker


async def _generate(h: DiscordHarness, worker: FakeWorker, prompt: str = "a lighthouse", member: int = 1,
                    **options: object) -> InteractionRecord:
    images = int(options.get("images", 1))  # type: ignore[call-overload]
    serving = asyncio.create_task(worker.serve(len(worker.served) + images))
    rec = await h.slash("generate", {"prompt": prompt, "model": MODEL, **options}, user=h.member(member))
    await serving
    assert len(rec.original.files) == images
    return rec


def _ids(rec: InteractionRecord, prefix: str) -> list[str]:
    return [c for c in rec.original.custom_ids if c.startswith(prefix)]


def _fields(embed: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {f["name"]: f["value"] for f in embed["fields"]}


async def test_star_is_the_requesters_and_survives_a_restart(h: DiscordHarness, service: HordeService, server,
                                                             config: AppConfig) -> None:
    worker = await _worker(service, server)
    rec = await _generate(h, worker)
    job = _ids(rec, "gen:vary:")[0].split(":")[2]
    assert f"gen:star:{job}" in rec.original.custom_ids
    other = await h.click(rec.original, f"gen:star:{job}", user=h.member(2))
    assert other.ephemeral and "Only the member who asked" in other.content
    await h.restart(build_bot(config, service))
    starred = await h.click(rec.original, f"gen:star:{job}", user=h.member(1))
    assert starred.ephemeral and "Starred" in starred.content
    favourites = await h.slash("gallery", {"favourites": True}, user=h.member(1))
    assert favourites.embeds[0]["description"] == "a lighthouse"
    unstarred = await h.click(rec.original, f"gen:star:{job}", user=h.member(1))
    assert unstarred.ephemeral and "Unstarred" in unstarred.content
    assert "starred no images" in (await h.slash("gallery", {"favourites": True}, user=h.member(1))).content


async def test_info_shows_every_parameter_privately_and_costs_nothing(h: DiscordHarness, service: HordeService,
                                                                     server) -> None:
    worker = await _worker(service, server)
    rec = await _generate(h, worker, "a lighthouse", negative="fog", seed="42", steps=20, guidance=6.5,
                          sampler="k_euler")
    info_id = _ids(rec, "gen:info:")[0]
    before = await kudos(service, h.member(2))
    info = await h.click(rec.original, info_id, user=h.member(2))
    assert info.ephemeral and info.embeds[0]["description"] == "a lighthouse"
    fields = _fields(info.embeds[0])
    assert fields["Negative"] == "fog" and fields["Steps"] == "20" and fields["Guidance"] == "6.5"
    assert fields["Sampler"] == "k_euler" and fields["Size"] == "512x512" and fields["Models asked for"] == MODEL
    assert fields["Images made"] == f"1. seed `42` · {MODEL} · Test GPU"
    assert fields["Cost"] == "7 kudos held, 7 kudos spent"
    assert await kudos(service, h.member(2)) == before


async def test_delete_is_for_the_requester_and_moderators(h: DiscordHarness, service: HordeService, server) -> None:
    worker = await _worker(service, server)
    first = await _generate(h, worker)
    delete = f"gen:delete:{h.member(1).id}"
    refused = await h.click(first.original, delete, user=h.member(2))
    assert refused.ephemeral and "moderator" in refused.content and not first.original.deleted
    await h.grant(h.member(2), manage_guild=True)  # Manage Server, without Manage Messages
    done = await h.click(first.original, delete, user=h.member(2))
    assert done.type == 6 and first.original.deleted


async def test_a_reroll_of_img2img_starts_from_the_same_source(h: DiscordHarness, service: HordeService,
                                                               server) -> None:
    worker = await _worker(service, server)
    rec = await _generate(h, worker, "a greener field", source=h.attachment(png((20, 200, 20)), "field.png"),
                          strength=0.3)
    reroll = _ids(rec, "gen:reroll:")[0]
    serving = asyncio.create_task(worker.serve(len(worker.served) + 1))
    again = await h.click(rec.original, reroll, user=h.member(2))
    await serving
    assert again.original.files and worker.served[-1]["source_processing"] == "img2img"
    assert worker.served[-1]["payload"]["denoising_strength"] == 0.3
    assert len(worker.sources) == 2 and _colour(worker.sources[1])[1] > 150  # the green field again


def png(colour: tuple[int, int, int], size: int = 48) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buf, format="PNG")
    return buf.getvalue()


def _colour(data: bytes) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel((0, 0))  # type: ignore[return-value]


def _size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


async def test_upscale_is_a_new_message_beside_the_original(h: DiscordHarness, service: HordeService, server,
                                                            config: AppConfig) -> None:
    worker = await _worker(service, server)
    alchemist = await _alchemist(service, server, offers=("RealESRGAN_x2plus",))
    rec = await _generate(h, worker)
    job = _ids(rec, "gen:vary:")[0].split(":")[2]
    assert {f"gen:pp:{job}:{op}" for op in ("x2", "x4", "face", "bg")} <= set(rec.original.custom_ids)
    before = await kudos(service, h.member(2))
    nobody = await h.click(rec.original, f"gen:pp:{job}:x4", user=h.member(2))
    assert nobody.original.deleted and nobody.followups[-1].ephemeral  # the public "thinking" went
    assert "No alchemist offers “Upscale x4”" in nobody.followups[-1].content
    assert await kudos(service, h.member(2)) == before and not rec.original.deleted

    await h.restart(build_bot(config, service))
    serving = asyncio.create_task(alchemist.serve(1))
    up = await h.click(rec.original, f"gen:pp:{job}:x2", user=h.member(2))
    await serving
    assert up.type == 5 and not up.ephemeral and up.original.id != rec.original.id  # a new message
    assert up.original.content == f"Upscale x2 for {h.member(2).display_name}"
    made = up.original.files[0]
    assert made.filename.startswith("hordebot-x2.") and _size(made.data) == (128, 128)  # the 64x64 result, twice
    assert alchemist.popped[0]["form"] == "RealESRGAN_x2plus" and _size(alchemist.sources[0]) == (64, 64)
    assert up.original.custom_ids == [f"gen:delete:{h.member(2).id}"]
    assert not rec.original.deleted and len(rec.original.files) == 1  # the original stays as it was
    assert await kudos(service, h.member(2)) < before  # whoever clicks pays


async def test_enhance_on_several_images_asks_which_privately(h: DiscordHarness, service: HordeService,
                                                              server) -> None:
    worker = await _worker(service, server)
    alchemist = await _alchemist(service, server, offers=("GFPGAN", "strip_background"))
    rec = await _generate(h, worker, "two faces", images=2)
    jobs = [c.split(":")[2] for c in _ids(rec, "gen:vary:")]
    assert {f"gen:star:{j}" for j in jobs} <= set(rec.original.custom_ids)
    assert not _ids(rec, "gen:pp:")  # too many buttons: a picker instead
    picker = await h.click(rec.original, _ids(rec, "gen:enh:")[0], user=h.member(2))
    assert picker.ephemeral and picker.content == "Which image, and how?"
    assert picker.custom_ids == [f"gen:pp:{j}:{op}" for j in jobs for op in ("x2", "x4", "face", "bg")]
    serving = asyncio.create_task(alchemist.serve(1))
    fixed = await h.click(picker, f"gen:pp:{jobs[1]}:face", user=h.member(2))
    await serving
    assert alchemist.popped[0]["form"] == "GFPGAN" and fixed.original.content.startswith("Fix faces for")
    assert not fixed.ephemeral and fixed.original.files


async def test_buttons_work_on_a_result_posted_in_the_channel(h: DiscordHarness, service: HordeService, server,
                                                              clock: FakeClock) -> None:
    worker = await _worker(service, server)
    rec = await h.slash("generate", {"prompt": "a slow lighthouse", "model": MODEL}, user=h.member(1), wait=False)
    await h.until(lambda: rec.original.embeds, what="the progress")
    clock.advance(TOKEN_LIFETIME)  # the reply can no longer be edited: the result is a post in the channel
    serving = asyncio.create_task(worker.serve(1))
    [posted] = await h.until(lambda: h.sent(h.channel), what="the result in the channel")
    await serving
    job = next(c for c in posted.custom_ids if c.startswith("gen:vary:")).split(":")[2]
    rid = next(c for c in posted.custom_ids if c.startswith("gen:info:")).split(":")[2]
    info = await h.click(posted, f"gen:info:{rid}", user=h.member(2))
    assert info.ephemeral and info.embeds[0]["description"] == "a slow lighthouse"
    starred = await h.click(posted, f"gen:star:{job}", user=h.member(1))
    assert starred.ephemeral and "Starred" in starred.content
    refused = await h.click(posted, f"gen:delete:{h.member(1).id}", user=h.member(2))
    assert refused.ephemeral and not posted.deleted
    await h.click(posted, f"gen:delete:{h.member(1).id}", user=h.member(1))
    assert posted.deleted
