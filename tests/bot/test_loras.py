"""/generate's `lora` and `ti` options through the real CommandTree, with a fake LoRA-capable worker over HTTP:
autocomplete limited to the chosen model's family, refusals before anything is public or paid, and what the
worker receives (the catalogue's horde names, trigger words in the prompt, the family's models)."""

from __future__ import annotations

import asyncio

from horde_core.service import HordeService
from tests.bot.harness import DiscordHarness
from tests.bot.social import admin, kudos
from tests.bot.test_generate import MODEL, _worker

SDXL_MODEL = "AlbedoBase XL (SDXL)"


async def test_autocomplete_follows_the_chosen_models_family(h: DiscordHarness, service: HordeService) -> None:
    any_model = await h.autocomplete("generate", "lora", "", options={"prompt": "x"}, user=h.member(1))
    assert {"sd1.5", "sdxl"} <= {c["name"].split("(")[1].split(",")[0].split(")")[0] for c in any_model}
    sd15 = await h.autocomplete("generate", "lora", "", options={"prompt": "x", "model": MODEL}, user=h.member(1))
    assert sd15 and all("(sd1.5" in c["name"] for c in sd15)
    punk = await h.autocomplete("generate", "lora", "cyberp", options={"prompt": "x"}, user=h.member(1))
    assert punk[0]["value"] == "Cyberpunk AI" and "CyberpunkAI" in punk[0]["name"]
    negative = await h.autocomplete("generate", "ti", "easyneg", options={"prompt": "x"}, user=h.member(1))
    assert negative[0]["value"] == "EasyNegative"


async def test_a_lora_of_another_family_is_refused_privately_before_anything_is_paid(
        h: DiscordHarness, service: HordeService, server) -> None:
    await _worker(service, server, lora=True)
    before = await kudos(service, h.member(1))
    sdxl = next(c["value"] for c in await h.autocomplete("generate", "lora", "", options={
        "prompt": "x", "model": SDXL_MODEL}, user=h.member(1)))
    wrong = await h.slash("generate", {"prompt": "a cat", "model": MODEL, "lora": sdxl}, user=h.member(1))
    assert wrong.type == 4 and wrong.ephemeral and "sdxl models" in wrong.content and f"`{MODEL}`" in wrong.content
    unknown = await h.slash("generate", {"prompt": "a cat", "lora": "No Such LoRA"}, user=h.member(1))
    assert unknown.type == 4 and unknown.ephemeral and "not in this server's catalogue" in unknown.content
    mixed = await h.slash("generate", {"prompt": "a cat", "lora": sdxl, "ti": "EasyNegative"}, user=h.member(1))
    assert mixed.ephemeral and "same family" in mixed.content
    assert await kudos(service, h.member(1)) == before
    assert await service.jobs_since((await service.user_for_identity(f"discord:{h.member(1).id}", "m")).id,
                                    "image", 0) == 0


async def test_the_worker_gets_horde_names_triggers_and_the_familys_models(h: DiscordHarness, service: HordeService,
                                                                          server) -> None:
    worker = await _worker(service, server, lora=True)
    serving = asyncio.create_task(worker.serve(1))
    rec = await h.slash("generate", {"prompt": "a city at night", "negative": "blur", "lora": "Cyberpunk AI",
                                     "ti": "EasyNegative"}, user=h.member(1))
    await serving
    assert rec.original.files
    payload = worker.served[-1]["payload"]
    assert payload["prompt"] == "a city at night, CyberpunkAI ### blur"
    assert payload["loras"] == [{"name": "77121", "model": 1.0, "clip": 1.0, "is_version": False}]
    assert payload["tis"] == [{"name": "7808", "inject_ti": "negprompt", "strength": 1.0}]
    rid = next(c for c in rec.original.custom_ids if c.startswith("gen:reroll:")).split(":")[2]
    models = (await service.request_outline(rid))["models"]
    assert MODEL in models and models == service.models_of_family("sd1.5")  # no model chosen: the LoRA's family


async def test_the_guilds_default_model_stays_when_it_fits(h: DiscordHarness, service: HordeService,
                                                           server) -> None:
    await h.slash("settings set", {"key": "default_model", "value": MODEL}, user=await admin(h, 0))
    worker = await _worker(service, server, lora=True)
    serving = asyncio.create_task(worker.serve(1))
    rec = await h.slash("generate", {"prompt": "a city", "lora": "Detail Tweaker"}, user=h.member(1))
    await serving
    rid = next(c for c in rec.original.custom_ids if c.startswith("gen:reroll:")).split(":")[2]
    assert (await service.request_outline(rid))["models"] == [MODEL]
    assert worker.served[-1]["payload"]["prompt"] == "a city"  # Detail Tweaker has no trigger words
