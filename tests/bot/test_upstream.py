"""A guild with no local workers generates, chats and describes through an upstream horde: the commands
run through the real CommandTree while the relay runs as `make run` runs it, and a GPU worker of the
public horde (a second core, over real HTTP) does the work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from horde_core.service import HordeService
from horde_core.upstream import UpstreamRelay, client_for
from tests.bot.harness import DiscordHarness
from tests.public_horde import Public, png_bytes, public, upstream_settings

__all__ = ["public"]


@pytest.fixture
async def running_relay(service: HordeService, public: Public) -> AsyncIterator[UpstreamRelay]:
    """The relay's own loop (polling every 10 ms), after the public GPUs announced their models."""
    service.config.upstream = upstream_settings(public, poll_seconds=0.01)
    await public.work_images()
    await public.work_text()
    relay = UpstreamRelay(service, client_for(service.config))
    await relay.tick()  # the upstream's offer is known before the first command
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        yield relay
    finally:
        stop.set()
        await task


async def _serve_public(work: object, rounds: int = 2000) -> list[str]:
    """The public horde's GPU: keep popping until it has served something (bounded)."""
    for _ in range(rounds):
        done = await work()  # type: ignore[operator]
        if done:
            return done  # type: ignore[no-any-return]
        await asyncio.sleep(0.005)
    raise AssertionError("the upstream never received the job")


async def test_generate_chat_and_describe_work_through_the_upstream(
        h: DiscordHarness, service: HordeService, public: Public, running_relay: UpstreamRelay) -> None:
    serving = asyncio.create_task(_serve_public(public.work_images))
    rec = await h.slash("generate", {"prompt": "a lighthouse at night", "model": "stable_diffusion"},
                        user=h.member(1))
    await serving
    assert len(rec.original.files) == 1 and not rec.ephemeral
    [body] = [b for b in public.sent("/v2/generate/async") if b["prompt"] == "a lighthouse at night"]
    assert body["proxied_account"] == f"{h.guild.id}:{h.member(1).id}"

    serving = asyncio.create_task(_serve_public(lambda: public.work_text("The sea is blue.")))
    chat = await h.slash("chat", {"prompt": "What colour is the sea?"}, user=h.member(2))
    await serving
    answer = chat.original.content or ""
    thread = h.guild.get_thread(chat.original.id)
    texts = [m.content for m in h.sent(thread)] if thread is not None else [answer]
    assert any("The sea is blue." in t for t in texts)
    [text_body] = public.sent("/v2/generate/text/async")
    assert text_body["proxied_account"] == f"{h.guild.id}:{h.member(2).id}"

    serving = asyncio.create_task(_serve_public(lambda: public.work_forms("a red square")))
    described = await h.slash("describe", {"image": h.attachment(png_bytes((200, 30, 30)), "red.png")},
                              user=h.member(1))
    await serving
    assert described.ephemeral and "a red square" in (described.original.content or "")
    [form_body] = public.sent("/v2/interrogate/async")
    assert form_body["proxied_account"] == f"{h.guild.id}:{h.member(1).id}"
    assert not h.background_errors
