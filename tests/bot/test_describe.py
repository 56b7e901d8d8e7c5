"""/describe and the "Describe image" context menu end to end, with a fake alchemist over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from typing import Any

import aiohttp
from discord.ext.test import factories as dpy_factories
from PIL import Image

from horde_core.service import HordeService
from tests.bot.harness import CapturedFile, DiscordHarness, _user_json

CAPTION = "a red square on a white table"


def png(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buf, format="PNG")
    return buf.getvalue()


def _bigger(source: bytes) -> bytes:
    """What a clearly fake upscaler makes of an image: the same, twice as wide and high, as PNG."""
    image = Image.open(io.BytesIO(source)).convert("RGB")
    buf = io.BytesIO()
    image.resize((image.width * 2, image.height * 2)).save(buf, format="PNG")
    return buf.getvalue()


class FakeAlchemist:
    """A clearly fake alchemist: pops forms over HTTP, downloads the source image, submits a caption/verdict."""

    def __init__(self, server, key: str, *, nsfw: bool = False,  # type: ignore[no-untyped-def]
                 offers: tuple[str, ...] = ("caption", "nsfw")) -> None:
        self.server, self.key, self.nsfw, self.offers = server, key, nsfw, offers
        self.popped: list[dict[str, Any]] = []  # every form handed over
        self.sources: list[bytes] = []  # the images downloaded for them
        self.made: list[bytes] = []  # the images it uploaded for image forms (upscales: the source, twice as big)

    async def pop(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        async with http.post(self.server.make_url("/api/v2/interrogate/pop"), headers={"apikey": self.key},
                             json={"name": "Test Alchemist", "forms": list(self.offers), "amount": 4}) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def serve(self, forms: int) -> None:
        """Work until `forms` forms were served in all (bounded; the bot's request appears within a few turns)."""
        async with aiohttp.ClientSession() as http:
            for _ in range(1000):
                if len(self.popped) >= forms:
                    return
                popped = (await self.pop(http))["forms"]
                if not popped:
                    await asyncio.sleep(0.005)
                    continue
                for form in popped:
                    async with http.get(form["source_image"]) as r:
                        assert r.status == 200
                        self.sources.append(await r.read())
                    if form.get("r2_upload"):  # an image form: upload the made image, then say so
                        made = _bigger(self.sources[-1])
                        async with http.put(form["r2_upload"], data=made) as r:
                            assert r.status == 200, await r.text()
                        self.made.append(made)
                        result: dict[str, Any] = {form["form"]: "R2"}
                    else:
                        result = {"caption": CAPTION} if form["form"] == "caption" else {"nsfw": self.nsfw}
                    async with http.post(self.server.make_url("/api/v2/interrogate/submit"),
                                         headers={"apikey": self.key},
                                         json={"id": form["id"], "result": result, "state": "ok"}) as r:
                        assert r.status == 200, await r.text()
                    self.popped.append(form)
        raise AssertionError(f"the alchemist got {len(self.popped)} of {forms} forms")

    @property
    def forms(self) -> list[str]:
        return sorted(f["form"] for f in self.popped)


async def _alchemist(service: HordeService, server, **kwargs: Any) -> FakeAlchemist:  # type: ignore[no-untyped-def]
    _, key = await service.create_user("alchemist-owner")
    alchemist = FakeAlchemist(server, key, **kwargs)
    async with aiohttp.ClientSession() as http:
        assert (await alchemist.pop(http))["forms"] == []  # online, offering its forms (caption and nsfw)
    return alchemist


def _menu_payload(h: DiscordHarness, attachments: list[dict[str, Any]], user_index: int = 1) -> dict[str, Any]:
    """What Discord sends when a member picks Apps > Describe image on someone's message."""
    message_id = str(dpy_factories.make_id())
    target = {"id": message_id, "channel_id": str(h.channel.id), "guild_id": str(h.guild.id),
              "author": _user_json(h.member(2)), "content": "look at this",
              "timestamp": dt.datetime.now(dt.UTC).isoformat(),
              "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
              "attachments": attachments, "embeds": [], "pinned": False, "type": 0}
    payload = h._base_payload(2, member=h.member(user_index), channel=h.channel, locale="en-US",
                              guild_locale="en-US")
    payload["data"] = {"id": str(h._command_id("Describe image", None)), "name": "Describe image", "type": 3,
                       "target_id": message_id, "resolved": {"messages": {message_id: target}}}
    return payload


async def test_describe_answers_privately_with_alt_text(h: DiscordHarness, service: HordeService, server) -> None:
    alchemist = await _alchemist(service, server)
    finished: list[dict[str, Any]] = []
    service.events.subscribe("job_finished", finished.append)
    serving = asyncio.create_task(alchemist.serve(1))
    rec = await h.slash("describe", {"image": h.attachment(png(), "red.png")}, user=h.member(1))
    await serving
    assert rec.type == 5 and rec.ephemeral
    assert rec.original.content.startswith(f"Alt text: {CAPTION}\n") and "NSFW" not in rec.original.content
    assert alchemist.forms == ["caption"]  # the NSFW check is off by default
    assert Image.open(io.BytesIO(alchemist.sources[0])).size == (32, 32)  # the member's image reached the worker
    outline = await service.request_outline(finished[0]["request_id"])
    assert outline["kind"] == "interrogation"
    assert outline["proxied_account"] == f"discord:{h.guild.id}:{h.member(1).id}"


async def test_describe_publicly_when_asked(h: DiscordHarness, service: HordeService, server) -> None:
    alchemist = await _alchemist(service, server)
    serving = asyncio.create_task(alchemist.serve(1))
    rec = await h.slash("describe", {"image": h.attachment(png(), "red.png"), "public": True}, user=h.member(1))
    await serving
    assert rec.type == 5 and not rec.ephemeral and not rec.original.ephemeral
    assert rec.original.content.startswith(f"Alt text: {CAPTION}")


async def test_nsfw_check_only_when_the_guild_turned_it_on(h: DiscordHarness, service: HordeService,
                                                            server) -> None:
    alchemist = await _alchemist(service, server, nsfw=True)
    await service.update_community_settings(f"discord:guild:{h.guild.id}", {"describe_nsfw_check": True}, "admin")
    serving = asyncio.create_task(alchemist.serve(2))
    rec = await h.slash("describe", {"image": h.attachment(png(), "red.png")}, user=h.member(1))
    await serving
    assert alchemist.forms == ["caption", "nsfw"]
    assert f"Alt text: {CAPTION}\nNSFW check: likely NSFW" in rec.original.content


async def test_context_menu_describes_the_image_in_a_message(h: DiscordHarness, service: HordeService,
                                                             server) -> None:
    alchemist = await _alchemist(service, server)
    photo = h._attachment_json(CapturedFile("photo.png", png((10, 10, 200))), content_type="image/png")
    notes = h._attachment_json(CapturedFile("notes.txt", b"hello"), content_type="text/plain")
    serving = asyncio.create_task(alchemist.serve(1))
    rec = await h.dispatch(_menu_payload(h, [notes, photo]), user=h.member(1))  # the image, not the text file
    await serving
    assert rec.type == 5 and rec.ephemeral and rec.original.content.startswith(f"Alt text: {CAPTION}")
    red, _, blue = Image.open(io.BytesIO(alchemist.sources[0])).convert("RGB").getpixel((0, 0))
    assert blue > 150 > red  # the blue photo (stored as lossy WebP), not something else

    refused = await h.dispatch(_menu_payload(h, [notes]), user=h.member(1))
    assert refused.type == 4 and refused.ephemeral and "images only" in refused.content
    empty = await h.dispatch(_menu_payload(h, []), user=h.member(1))
    assert empty.ephemeral and "no attached image" in empty.content


async def test_non_images_and_big_files_are_refused_at_once(h: DiscordHarness, service: HordeService,
                                                            server) -> None:
    alchemist = await _alchemist(service, server)
    text = await h.slash("describe", {"image": h.attachment(b"plain words", "notes.txt")}, user=h.member(1))
    assert text.type == 4 and text.ephemeral and "images only" in text.content and "text/plain" in text.content
    big = await h.slash("describe", {"image": h.attachment(b"\0" * (8 * 1024 * 1024 + 1), "huge.png")},
                        user=h.member(1))
    assert big.type == 4 and big.ephemeral and "larger than 8 MB" in big.content
    async with aiohttp.ClientSession() as http:
        assert (await alchemist.pop(http))["forms"] == []  # nothing was queued


async def test_switched_off_or_nobody_to_do_it(h: DiscordHarness, service: HordeService) -> None:
    none_online = await h.slash("describe", {"image": h.attachment(png(), "red.png")}, user=h.member(1))
    assert none_online.ephemeral and "No alchemist" in none_online.original.content
    await service.update_community_settings(f"discord:guild:{h.guild.id}", {"describe": False}, "admin")
    off = await h.slash("describe", {"image": h.attachment(png(), "red.png"), "public": True}, user=h.member(1))
    assert off.original.deleted and off.followups[-1].ephemeral and "switched off" in off.followups[-1].content
