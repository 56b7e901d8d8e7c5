"""The "Remix image" and "Upscale image" message menus on any image in the channel, and Remix in the gallery:
a modal for the prompt and strength, img2img from that very image, delivered like /generate; the private
picker's buttons keep working after a restart; refusals are private and cost nothing."""

from __future__ import annotations

import asyncio

import aiohttp

from horde_core.config import AppConfig
from horde_core.service import HordeService
from tests.bot.conftest import build_bot
from tests.bot.harness import CapturedFile, DiscordHarness
from tests.bot.social import kudos
from tests.bot.test_describe import _alchemist
from tests.bot.test_generate import MODEL, _worker
from tests.bot.test_results import _colour, _generate, _ids, _size, png


def _modal_values(modal: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {c["custom_id"]: c.get("value", "") for row in modal["components"] for c in row["components"]}


async def test_remix_any_image_in_the_channel(h: DiscordHarness, service: HordeService, server) -> None:
    worker = await _worker(service, server)
    photo = await h.post("my cat", member=h.member(2), files=[CapturedFile("cat.png", png((30, 30, 220), 200))])
    shown = await h.context_menu("Remix image", photo, user=h.member(1))
    assert shown.type == 9 and shown.modal["title"] == "Remix image"
    prompt_id, strength_id = _modal_values(shown.modal)
    assert _modal_values(shown.modal)[strength_id] == "0.6"

    before = await kudos(service, h.member(1))
    wrong = await h.submit_modal(shown, {prompt_id: "a tiger", strength_id: "2"})
    assert wrong.type == 4 and wrong.ephemeral and "0.01" in wrong.content
    assert await kudos(service, h.member(1)) == before

    shown = await h.context_menu("Remix image", photo, user=h.member(1))  # a sent modal is closed: open it again
    assert _modal_values(shown.modal) == {prompt_id: "", strength_id: "0.6"}
    serving = asyncio.create_task(worker.serve(1))
    done = await h.submit_modal(shown, {prompt_id: "a tiger in the snow", strength_id: "0,35"})
    await serving
    assert done.type == 5 and not done.ephemeral and done.original.files
    assert done.original.embeds[0]["description"] == "a tiger in the snow"
    popped = worker.served[-1]
    assert popped["source_processing"] == "img2img" and popped["payload"]["denoising_strength"] == 0.35
    assert (popped["payload"]["width"], popped["payload"]["height"]) == (192, 192)  # the image's own shape
    assert _colour(worker.sources[-1])[2] > 150  # the member's blue photo
    assert await kudos(service, h.member(1)) < before


async def test_remix_on_a_result_starts_from_its_stored_image_and_prompt(h: DiscordHarness, service: HordeService,
                                                                         server) -> None:
    worker = await _worker(service, server)
    rec = await _generate(h, worker, "a red barn", negative="people")
    shown = await h.context_menu("Remix image", rec.original, user=h.member(2))
    prompt_id, strength_id = _modal_values(shown.modal)
    assert _modal_values(shown.modal)[prompt_id] == "a red barn"
    serving = asyncio.create_task(worker.serve(2))
    done = await h.submit_modal(shown, {prompt_id: "a blue barn", strength_id: "0.5"})
    await serving
    popped = worker.served[-1]
    assert popped["payload"]["prompt"] == "a blue barn ### people" and popped["model"] == MODEL
    assert _size(worker.sources[-1]) == (64, 64)  # the result's image, as the core kept it
    assert done.original.embeds[0]["description"] == "a blue barn ### people"


async def test_menus_refuse_messages_without_an_image(h: DiscordHarness, service: HordeService) -> None:
    words = await h.post("just words", member=h.member(2))
    remix = await h.context_menu("Remix image", words, user=h.member(1))
    assert remix.type == 4 and remix.ephemeral and "no attached image" in remix.content
    upscale = await h.context_menu("Upscale image", words, user=h.member(1))
    assert upscale.ephemeral and "no attached image" in upscale.content
    text = await h.post("notes", member=h.member(2), files=[CapturedFile("notes.txt", b"hello")])
    assert "images only" in (await h.context_menu("Remix image", text, user=h.member(1))).content


async def test_upscale_image_offers_a_private_picker_that_survives_a_restart(
        h: DiscordHarness, service: HordeService, server, config: AppConfig) -> None:
    alchemist = await _alchemist(service, server, offers=("RealESRGAN_x4plus",))
    photo = await h.post("two photos", member=h.member(2), files=[
        CapturedFile("red.png", png((220, 20, 20))), CapturedFile("blue.png", png((20, 20, 220)))])
    picker = await h.context_menu("Upscale image", photo, user=h.member(1))
    assert picker.ephemeral and picker.content == "Which image, and how?"
    assert picker.custom_ids == [f"gen:ppm:{photo.id}:{i}:{op}" for i in (0, 1) for op in ("x2", "x4", "face", "bg")]
    await h.restart(build_bot(config, service))
    serving = asyncio.create_task(alchemist.serve(1))
    up = await h.click(picker, f"gen:ppm:{photo.id}:1:x4", user=h.member(1))
    await serving
    assert not up.ephemeral and up.original.files and _size(up.original.files[0].data) == (96, 96)
    assert _colour(alchemist.sources[-1])[2] > 150  # the second (blue) image
    async with aiohttp.ClientSession() as http:
        assert (await alchemist.pop(http))["forms"] == []  # one form, nothing more


async def test_remix_from_the_gallery(h: DiscordHarness, service: HordeService, server, config: AppConfig) -> None:
    worker = await _worker(service, server)
    rec = await _generate(h, worker, "a windmill")
    job = _ids(rec, "gen:vary:")[0].split(":")[2]
    gallery = await h.slash("gallery", user=h.member(1))
    await h.restart(build_bot(config, service))
    shown = await h.click(gallery, f"gen:remix:{job}", user=h.member(1))
    assert shown.type == 9
    prompt_id, strength_id = _modal_values(shown.modal)
    serving = asyncio.create_task(worker.serve(2))
    done = await h.submit_modal(shown, {prompt_id: "a windmill at night", strength_id: "0.8"})
    await serving
    assert worker.served[-1]["payload"]["denoising_strength"] == 0.8 and done.original.files
