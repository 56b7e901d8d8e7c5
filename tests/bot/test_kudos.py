"""Emoji gifts through real dpytest reactions, and /kudos balance, transfer, history and top."""

from __future__ import annotations

import asyncio
import copy

import aiohttp
import discord

from cogs.generate._views import RerollButton
from horde_core.clock import FakeClock
from horde_core.config import AppConfig
from horde_core.service import HordeService
from tests.bot.conftest import build_bot
from tests.bot.harness import DiscordHarness
from tests.bot.social import REACTIONS, account, admin, calls, configure, dms, kudos
from tests.bot.test_generate import MODEL, FakeWorker

CUSTOM = "<:kudos:123456789012345678>"


def jump(h: DiscordHarness, message_id: int) -> str:
    return f"https://discord.com/channels/{h.guild.id}/{h.channel.id}/{message_id}"


async def test_admins_map_emoji_and_show_lists_them(h: DiscordHarness, service: HordeService) -> None:
    boss = await admin(h)
    added = await h.slash("settings kudos-emoji add", {"emoji": "👍", "amount": 5, "title": "Thanks"}, user=boss)
    assert added.ephemeral and "👍" in added.content and "**5**" in added.content
    custom = await h.slash("settings kudos-emoji add", {"emoji": CUSTOM, "amount": 20}, user=boss)
    assert "<:kudos:123456789012345678>" in custom.content
    bad = await h.slash("settings kudos-emoji add", {"emoji": "thanks", "amount": 5}, user=boss)
    assert bad.ephemeral and "not an emoji" in bad.content
    listed = await h.slash("settings kudos-emoji list", user=boss)
    assert "👍 **5** kudos — Thanks" in listed.content and f"{CUSTOM} **20** kudos" in listed.content
    shown = await h.slash("settings show", user=boss)
    assert "`kudos_emoji` = **👍 5 <:kudos:123456789012345678> 20** (changed)" in shown.embeds[0]["description"]
    assert "`kudos_cooldown` = **10**" in shown.embeds[0]["description"]
    refused = await h.slash("settings set", {"key": "kudos_emoji", "value": "👍=5"}, user=boss)
    assert "changed with `/settings kudos-emoji`" in refused.content
    choices = await h.autocomplete("settings kudos-emoji remove", "emoji", "", user=boss)
    assert {c["value"] for c in choices} == {"👍", "123456789012345678"}
    removed = await h.slash("settings kudos-emoji remove", {"emoji": "123456789012345678"}, user=boss)
    assert CUSTOM in removed.content
    stored = await service.community_settings(f"discord:guild:{h.guild.id}")
    assert stored["kudos_emoji"] == {"👍": {"emoji": "👍", "amount": 5, "title": "Thanks", "message": ""}}
    member = await h.slash("settings kudos-emoji list", user=h.member(1))
    assert "Manage Server" in member.content


async def test_a_reaction_gifts_the_author_once_and_is_acknowledged(h: DiscordHarness, service: HordeService) -> None:
    await h.slash("settings kudos-emoji add", {"emoji": "👍", "amount": 5}, user=await admin(h))
    author, fan = h.member(1), h.member(2)
    msg = await h.post("here's how to fix your LoRA", member=author)
    await h.react(msg, "👍", fan)
    assert (await kudos(service, author), await kudos(service, fan)) == (30, 20)
    entry = (await service.kudos_history((await account(service, author)).id, limit=1))[0]
    assert (entry["reason"], entry["amount"], entry["ref"]) == ("gift", 5, jump(h, msg.id))
    acks = calls(h, "PUT", REACTIONS)
    assert len(acks) == 1 and acks[0].url.endswith("/🎁/@me")  # the guild's default: a reaction

    await h.unreact(msg, "👍", fan)
    await h.react(msg, "👍", fan)  # the same gift again: nothing moves, nobody is bothered
    await h.react(msg, "😀", fan)  # not mapped: not a gift
    assert (await kudos(service, author), await kudos(service, fan)) == (30, 20)
    assert not calls(h, "DELETE", REACTIONS) and not dms(h, fan)


async def test_a_refused_gift_loses_its_reaction_and_the_sender_hears_why(h: DiscordHarness,
                                                                          service: HordeService) -> None:
    await h.slash("settings kudos-emoji add", {"emoji": "👍", "amount": 5}, user=await admin(h))
    await h.grant(h.guild.me, manage_messages=True)
    author = h.member(1)
    msg = await h.post("look at my render", member=author)
    await h.react(msg, "👍", author)  # to oneself
    removed = calls(h, "DELETE", REACTIONS)
    assert len(removed) == 1 and removed[0].url.endswith(f"/👍/{author.id}")
    assert "yourself" in dms(h, author)[-1] and jump(h, msg.id) in dms(h, author)[-1]
    assert await kudos(service, author) == 25

    announcement = await h.channel.send("maintenance tonight")  # a message of the bot: no kudos for bots
    await h.react(announcement, "👍", author)
    assert "Bots can't receive kudos" in dms(h, author)[-1] and len(calls(h, "DELETE", REACTIONS)) == 2

    poor = h.member(2)
    await service.grant_kudos(str((await account(service, poor)).id), -23)  # 2 kudos left
    await h.react(msg, "👍", poor)
    assert "don't have 5 kudos" in dms(h, poor)[-1]
    assert (await kudos(service, author), await kudos(service, poor)) == (25, 2)


async def test_without_manage_messages_the_sender_is_still_told(h: DiscordHarness, service: HordeService) -> None:
    boss = await admin(h)
    await h.slash("settings kudos-emoji add", {"emoji": "👍", "amount": 5}, user=boss)
    msg = await h.post("hello", member=h.member(1))
    await h.react(msg, "👍", h.member(1))
    assert not calls(h, "DELETE", REACTIONS)
    assert "Manage Messages" in dms(h, h.member(1))[-1] and "yourself" in dms(h, h.member(1))[-1]
    shown = await h.slash("settings show", user=boss)
    assert "Manage Messages" in shown.embeds[0]["fields"][0]["value"]


async def test_caps_and_cooldown_are_the_guilds(h: DiscordHarness, service: HordeService, clock: FakeClock) -> None:
    boss = await admin(h)
    await h.slash("settings kudos-emoji add", {"emoji": "👍", "amount": 5}, user=boss)
    await h.slash("settings set", {"key": "kudos_cooldown", "value": "60"}, user=boss)
    await h.slash("settings set", {"key": "kudos_daily_cap", "value": "8"}, user=boss)
    author, fan = h.member(1), h.member(2)
    first, second = await h.post("one", member=author), await h.post("two", member=author)
    await h.react(first, "👍", fan)
    await h.react(second, "👍", fan)
    assert "Wait 60 s between gifts" in dms(h, fan)[-1]
    clock.advance(61)
    await h.react(second, "👍", fan)
    assert "You can gift 8 kudos a day here; 5 given today" in dms(h, fan)[-1]
    assert await kudos(service, author) == 30
    clock.advance(86_400)
    await h.react(second, "👍", fan)
    assert await kudos(service, author) == 35 and await kudos(service, fan) == 15

    await configure(service, h, kudos_cooldown=0, kudos_daily_cap=500, kudos_recipient_cap=12)
    third = await h.post("three", member=author)
    await h.react(third, "👍", h.member(0))
    await h.react(third, "👍", fan)
    assert "received as many gifts" in dms(h, fan)[-1]
    assert await kudos(service, author) == 40


async def test_custom_emoji_gifts_and_is_removed_when_refused(h: DiscordHarness, service: HordeService) -> None:
    await configure(service, h, kudos_ack="dm")
    await h.slash("settings kudos-emoji add", {"emoji": CUSTOM, "amount": 7, "title": "Legend",
                                               "message": "Thanks for the help!"}, user=await admin(h))
    await h.grant(h.guild.me, manage_messages=True)
    author, fan = h.member(1), h.member(2)
    msg = await h.post("a workflow that works", member=author)
    await h.react(msg, "<:kudos:123456789012345678>", fan)
    assert await kudos(service, author) == 32
    assert "**Legend**" in dms(h, author)[-1] and "Thanks for the help!" in dms(h, author)[-1]
    assert not calls(h, "PUT", REACTIONS)  # acknowledged by DM, as the guild chose
    entry = (await service.kudos_history((await account(service, author)).id, limit=1))[0]
    assert entry["note"] == f"{CUSTOM} in discord:{h.guild.id}"
    await h.react(msg, "<:kudos:123456789012345678>", author)  # to oneself: refused, custom reaction removed
    removed = calls(h, "DELETE", REACTIONS)
    assert len(removed) == 1 and removed[0].url.endswith(f"/kudos:123456789012345678/{author.id}")
    await h.react(msg, "<:other:987654321098765432>", fan)  # an unmapped custom emoji
    assert await kudos(service, author) == 32


async def test_a_gift_on_a_generated_image_goes_to_whoever_asked(h: DiscordHarness, service: HordeService, server,
                                                                 config: AppConfig) -> None:
    boss = await admin(h)
    await h.slash("settings kudos-emoji add", {"emoji": "👍", "amount": 5}, user=boss)
    gpu_owner, requester, fan = h.member(0), h.member(1), h.member(2)
    worker = FakeWorker(server, await service.regenerate_key((await account(service, gpu_owner)).id))
    async with aiohttp.ClientSession() as http:
        assert (await worker.pop(http))["id"] is None  # online, serving MODEL, owned by a member
    serving = asyncio.create_task(worker.serve(1))
    rec = await h.slash("generate", {"prompt": "a lighthouse", "model": MODEL}, user=requester)
    await serving
    paid = await kudos(service, requester)
    await h.restart(build_bot(config, service))  # a result from before a restart still knows its requester
    await h.react(rec.original, "👍", fan)
    assert await kudos(service, requester) == paid + 5 and await kudos(service, fan) == 20
    reroll = next(c for c in rec.original.custom_ids if c.startswith("gen:reroll:"))
    view = discord.ui.View(timeout=None)
    view.add_item(RerollButton(reroll.split(":")[2]))
    only_request = await h.channel.send("a result that only names its request", view=view)
    await h.react(only_request, "👍", gpu_owner)  # the requester is found through the request id
    assert await kudos(service, requester) == paid + 10

    top = await h.slash("kudos top", user=fan)
    fields = {f["name"]: f["value"] for f in top.followups[-1].embeds[0]["fields"]}
    assert fields["Most given"] == f"1. <@{gpu_owner.id}> — **5**\n2. <@{fan.id}> — **5**"  # ties: oldest first
    assert fields["Most received"] == f"1. <@{requester.id}> — **10**"
    assert fields["Earned by workers"].startswith(f"1. <@{gpu_owner.id}> — **")
    assert not top.followups[-1].ephemeral


async def test_balance_and_small_transfers(h: DiscordHarness, service: HordeService) -> None:
    giver, taker = h.member(1), h.member(2)
    mine = await h.slash("kudos balance", user=giver)
    assert mine.ephemeral and mine.content == "You have **25** kudos."
    sent = await h.slash("kudos transfer", {"member": taker, "amount": 10, "note": "for the prompt"}, user=giver)
    assert sent.ephemeral and "Sent **10** kudos" in sent.content
    theirs = await h.slash("kudos balance", {"member": taker}, user=giver)
    assert theirs.content == f"<@{taker.id}> has **35** kudos."
    assert "sent you **10** kudos: for the prompt" in dms(h, taker)[-1]
    too_much = await h.slash("kudos transfer", {"member": taker, "amount": 99}, user=giver)
    assert too_much.ephemeral and "Not enough kudos" in too_much.content
    selfish = await h.slash("kudos transfer", {"member": giver, "amount": 1}, user=giver)
    assert "yourself" in selfish.content
    bot = await h.slash("kudos balance", {"member": h.guild.me}, user=giver)
    assert "Bots have no kudos" in bot.content
    assert await kudos(service, giver) == 15


async def test_large_transfers_ask_first_and_confirmations_expire(h: DiscordHarness, service: HordeService,
                                                                  clock: FakeClock, config: AppConfig) -> None:
    giver, taker = h.member(1), h.member(2)
    await service.grant_kudos(str((await account(service, giver)).id), 475)  # 500
    asked = await h.slash("kudos transfer", {"member": taker, "amount": 150, "note": "prize"}, user=giver)
    assert asked.ephemeral and "Send **150** kudos" in asked.embeds[0]["description"]
    assert await kudos(service, giver) == 500  # nothing moved yet
    confirm = next(c for c in asked.custom_ids if c.startswith("kudos:send:"))
    await h.restart(build_bot(config, service))  # the button is restart-proof
    before = copy.deepcopy(asked.original.data)
    done = await h.click(asked, confirm, user=giver)
    assert done.type == 7 and "Sent **150** kudos" in done.original.content and not done.original.custom_ids
    again = await h.click(before, confirm, user=giver)  # a second click that was already on its way
    assert "already sent" in again.original.content
    assert (await kudos(service, giver), await kudos(service, taker)) == (350, 175)
    note = (await service.kudos_history((await account(service, taker)).id, limit=1))[0]["note"]
    assert note == "prize"

    late = await h.slash("kudos transfer", {"member": taker, "amount": 100}, user=giver)
    clock.advance(301)
    expired = await h.click(late, next(c for c in late.custom_ids if c.startswith("kudos:send:")), user=giver)
    assert "expired" in expired.original.content
    cancelled = await h.slash("kudos transfer", {"member": taker, "amount": 100}, user=giver)
    gone = await h.click(cancelled, f"kudos:cancel:{giver.id}", user=giver)
    assert "Cancelled" in gone.original.content
    assert await kudos(service, giver) == 350


async def test_history_pages_both_ways(h: DiscordHarness, service: HordeService, clock: FakeClock) -> None:
    giver, taker = h.member(1), h.member(2)
    await service.grant_kudos(str((await account(service, giver)).id), 75)
    for amount in range(1, 11):  # the starting balance, a grant and 10 transfers: 12 entries, two pages
        await h.slash("kudos transfer", {"member": taker, "amount": amount}, user=giver)
        clock.advance(1)
    first = await h.slash("kudos history", user=giver)
    assert first.ephemeral
    lines = first.embeds[0]["description"].splitlines()
    assert len(lines) == 8 and "**-10** transfer" in lines[0] and "**-3** transfer" in lines[-1]
    older_id = next(c for c in first.custom_ids if c.startswith(f"kudos:history:{giver.id}:1:"))
    older = await h.click(first, older_id, user=giver)
    lines = older.original.embeds[0]["description"].splitlines()
    assert len(lines) == 4 and "**-2** transfer" in lines[0] and "**+25** welcome kudos" in lines[-1]
    oldest = next(c for c in older.original.custom_ids if c.startswith(f"kudos:history:{giver.id}:2:"))
    assert older.original.component(oldest)["disabled"]  # nothing older
    newer = await h.click(older, f"kudos:history:{giver.id}:0:0", user=giver)
    assert "**-10** transfer" in newer.original.embeds[0]["description"].splitlines()[0]


async def test_unmapped_guilds_and_bot_reactions_gift_nothing(h: DiscordHarness, service: HordeService) -> None:
    msg = await h.post("hi", member=h.member(1))
    await h.react(msg, "👍", h.member(2))  # no emoji mapped in this guild
    assert await kudos(service, h.member(1)) == 25
    await h.slash("settings kudos-emoji add", {"emoji": "👍", "amount": 5}, user=await admin(h))
    await h.react(msg, "👍", h.guild.me)  # the bot's own reaction never gifts
    assert await kudos(service, h.member(1)) == 25 and not dms(h, h.member(1))
