"""/party through the real CommandTree: hosting needs a permission, refusals are private and hold nothing,
entries are paid from the held budget, and the summary is posted when the budget is spent."""

from __future__ import annotations

import asyncio

from horde_core.service import HordeService
from tests.bot.harness import DiscordHarness
from tests.bot.social import kudos
from tests.bot.test_generate import MODEL, _worker
from tests.helpers import assert_books_balance


async def _entry(h: DiscordHarness, worker, prompt: str, member_index: int) -> str:  # type: ignore[no-untyped-def]
    serving = asyncio.create_task(worker.serve(len(worker.served) + 1))
    rec = await h.slash("generate", {"prompt": prompt, "model": MODEL}, user=h.member(member_index))
    await serving
    return next(c for c in rec.original.custom_ids if c.startswith("gen:vary:")).split(":")[2]


async def test_a_party_pays_themed_entries_and_posts_its_summary(h: DiscordHarness, service: HordeService,
                                                                 server) -> None:
    host, member = h.member(0), h.member(1)
    start = {"theme": "dragon", "award": 5, "budget": 9}
    refused = await h.slash("party start", start, user=host)
    assert refused.ephemeral and "Manage Events" in refused.content
    await h.grant(host, manage_events=True)
    before = await kudos(service, host)
    too_much = await h.slash("party start", {**start, "budget": before + 1}, user=host)
    assert too_much.ephemeral and "more than you have" in too_much.content and await kudos(service, host) == before
    none = await h.slash("party status", user=member)
    assert none.ephemeral and "No party" in none.content

    started = await h.slash("party start", start, user=host)
    assert not started.ephemeral and "**dragon**" in started.embeds[0]["description"]
    assert await kudos(service, host) == before - 9  # held at once
    again = await h.slash("party start", start, user=host)
    assert again.ephemeral and "already running" in again.content

    worker = await _worker(service, server)
    channel = str(h.channel.id)
    off = await _entry(h, worker, "a cat", 1)
    assert await service.party_entry(off, channel) is None
    first = await _entry(h, worker, "a red dragon", 1)
    paid_before = await kudos(service, member)
    assert (await service.party_entry(first, channel)).award == 5  # type: ignore[union-attr]
    status = await h.slash("party status", user=member)
    fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    assert status.ephemeral and fields["Budget left"] == "4 / 9" and fields["Entries"] == "1"

    second = await _entry(h, worker, "dragon eggs", 2)
    award = await service.party_entry(second, channel)
    assert award is not None and award.award == 4 and award.ended
    await service.events.settle()  # the summary is posted by the bot's "party_ended" handler
    summary = h.sent(h.channel)[-1].embeds[0]
    fields = {f["name"]: f["value"] for f in summary["fields"]}
    assert "budget is spent" in summary["title"] and fields["Kudos paid"] == "9" and fields["Entries"] == "2"
    assert f"<@{member.id}>: 1 entries, 5 kudos" in fields["Top entrants"]
    assert await kudos(service, member) == paid_before + 5
    assert await kudos(service, host) == before - 9  # exactly the budget, nothing returned
    gone = await h.slash("party end", user=host)
    assert gone.ephemeral and "No party" in gone.content
    await assert_books_balance(service)


async def test_the_host_ends_a_party_and_gets_the_rest_back(h: DiscordHarness, service: HordeService) -> None:
    host = h.member(0)
    await h.grant(host, manage_events=True)
    before = await kudos(service, host)
    await h.slash("party start", {"theme": "ships, night", "award": 2, "budget": 10}, user=host)
    stranger = await h.slash("party end", user=h.member(1))
    assert stranger.ephemeral and "host" in stranger.content
    ended = await h.slash("party end", user=host)
    assert ended.ephemeral and await kudos(service, host) == before
    await service.events.settle()
    fields = {f["name"]: f["value"] for f in h.sent(h.channel)[-1].embeds[0]["fields"]}
    assert fields["Returned to the host"] == "10" and fields["Kudos paid"] == "0"
