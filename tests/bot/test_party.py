"""/party through the real CommandTree: hosting needs a permission, refusals are private and hold nothing,
entries are paid from the held budget, and the summary is posted when the budget is spent."""

from __future__ import annotations

import asyncio

from horde_core.service import HordeService
from tests.bot.harness import DiscordHarness
from tests.bot.social import kudos
from tests.bot.test_generate import MODEL, _worker
from tests.helpers import assert_books_balance


async def _entry(h: DiscordHarness, worker, prompt: str, member_index: int  # type: ignore[no-untyped-def]
                 ) -> tuple[str, dict[str, str]]:
    """A /generate in the party's channel: the job id and the result's embed fields."""
    serving = asyncio.create_task(worker.serve(len(worker.served) + 1))
    rec = await h.slash("generate", {"prompt": prompt, "model": MODEL}, user=h.member(member_index))
    await serving
    fields = {f["name"]: f["value"] for f in rec.original.embeds[0]["fields"]}
    return next(c for c in rec.original.custom_ids if c.startswith("gen:vary:")).split(":")[2], fields


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
    off, shown = await _entry(h, worker, "a cat", 1)
    assert "🎉 Party" not in shown and await service.party_entry(off, channel) is None  # off theme
    paid_before = await kudos(service, member)
    first, shown = await _entry(h, worker, "a red dragon", 1)  # the delivery entered it and says so
    assert shown["🎉 Party"] == "+5 kudos for entering the party"
    assert await kudos(service, member) == paid_before - 9 + 5
    assert await service.party_entry(first, channel) is None  # one award per image
    status = await h.slash("party status", user=member)
    fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    assert status.ephemeral and fields["Budget left"] == "4 / 9" and fields["Entries"] == "1"

    _, shown = await _entry(h, worker, "dragon eggs", 2)
    assert shown["🎉 Party"] == "+4 kudos for entering the party"  # the rest of the budget, which ends it
    await service.events.settle()  # the summary is posted by the bot's "party_ended" handler
    summary = h.sent(h.channel)[-1].embeds[0]
    fields = {f["name"]: f["value"] for f in summary["fields"]}
    assert "budget is spent" in summary["title"] and fields["Kudos paid"] == "9" and fields["Entries"] == "2"
    assert f"<@{member.id}>: 1 entries, 5 kudos" in fields["Top entrants"]
    assert await kudos(service, member) == paid_before - 9 + 5
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
