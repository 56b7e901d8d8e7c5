"""/chat end to end: the real bot, the core, and a fake KoboldAI-style text worker over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp

from cogs.chat._history import Turn, build_prompt, chunks, clean_answer, context_limits, tokens
from horde_core.config import AppConfig
from horde_core.service import HordeService
from tests.bot.conftest import build_bot
from tests.bot.harness import DiscordHarness

MODEL = "koboldcpp/test-llm"  # not in the model reference: its context size is what the worker announces
BOT = "FakeApp_nick"  # how dpytest names the bot in its guild


class FakeTextWorker:
    """A clearly fake KoboldAI-style worker: pops text jobs over HTTP, records each payload, submits an answer."""

    def __init__(self, server, key: str, *, context: int = 2048, length: int = 512,  # type: ignore[no-untyped-def]
                 answer: Callable[[dict[str, Any]], str] | None = None) -> None:
        self.server, self.key, self.context, self.length = server, key, context, length
        self.answer = answer or (lambda payload: f"Answer {len(self.received)}.")
        self.received: list[dict[str, Any]] = []  # what each pop handed over

    @property
    def prompts(self) -> list[str]:
        return [r["payload"]["prompt"] for r in self.received]

    async def pop(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        async with http.post(self.server.make_url("/api/v2/generate/text/pop"), headers={"apikey": self.key},
                             json={"name": "Test LLM", "models": [MODEL], "max_length": self.length,
                                   "max_context_length": self.context, "bridge_agent": "fake kobold:1:test"}) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def serve(self, jobs: int) -> None:
        """Answer until `jobs` jobs were served in all (bounded: the bot's request shows up within a few turns)."""
        async with aiohttp.ClientSession() as http:
            for _ in range(1000):
                if len(self.received) >= jobs:
                    return
                pop = await self.pop(http)
                if not pop["id"]:
                    await asyncio.sleep(0.005)
                    continue
                self.received.append(pop)
                async with http.post(self.server.make_url("/api/v2/generate/text/submit"),
                                     headers={"apikey": self.key},
                                     json={"id": pop["id"], "generation": self.answer(pop["payload"]),
                                           "state": "ok"}) as r:
                    assert r.status == 200, await r.text()
        raise AssertionError(f"the worker got {len(self.received)} of {jobs} jobs")


async def _worker(service: HordeService, server, **kwargs: Any) -> FakeTextWorker:  # type: ignore[no-untyped-def]
    _, key = await service.create_user("llm-owner")
    worker = FakeTextWorker(server, key, **kwargs)
    async with aiohttp.ClientSession() as http:
        assert (await worker.pop(http))["id"] is None  # online, serving MODEL
    return worker


async def _allow_threads(h: DiscordHarness) -> None:
    await h.grant(h.guild.me, create_public_threads=True, send_messages_in_threads=True)


def _name(h: DiscordHarness, index: int) -> str:
    return h.member(index).display_name


async def test_chat_answers_in_a_thread_and_the_thread_carries_the_conversation(
        h: DiscordHarness, service: HordeService, server, config: AppConfig) -> None:
    await _allow_threads(h)
    alice, bob = _name(h, 1), _name(h, 2)
    worker = await _worker(service, server, answer=lambda p: f"Answer {len(worker.received)}.\n{alice}: and more")
    finished: list[dict[str, Any]] = []
    service.events.subscribe("job_finished", finished.append)

    serving = asyncio.create_task(worker.serve(1))
    rec = await h.slash("chat", {"prompt": "What colour is the sea?", "model": MODEL}, user=h.member(1))
    await serving
    assert rec.type == 5 and not rec.ephemeral  # deferred at once, publicly
    starter = rec.original.embeds[0]
    assert starter["description"] == "What colour is the sea?" and starter["author"]["name"] == alice
    assert starter["footer"]["text"].startswith(f"💬 hordebot chat · {MODEL} · ")
    thread = h.guild.get_thread(rec.original.id)
    assert thread is not None and thread.owner_id == h.bot.user.id and thread.parent_id == h.channel.id
    assert [m.content for m in h.sent(thread)] == ["Answer 1."]  # cut where the model wrote alice's turn
    payload = worker.received[0]["payload"]
    assert payload["prompt"] == f"{alice}: What colour is the sea?\n{BOT}:"
    assert (payload["max_context_length"], payload["max_length"]) == (2048, 200)
    assert f"\n{alice}:" in payload["stop_sequence"]
    outline = await service.request_outline(finished[0]["request_id"])
    member = await service.user_for_identity(f"discord:{h.member(1).id}", "x")
    assert outline["proxied_account"] == f"discord:{h.guild.id}:{h.member(1).id}" and outline["user_id"] == member.id

    # a member's plain message in the thread continues the conversation, paid by that member
    serving = asyncio.create_task(worker.serve(2))
    await h.post("And at night?", channel=thread, member=h.member(2))
    await serving
    assert worker.prompts[1] == (f"{alice}: What colour is the sea?\n{BOT}: Answer 1.\n{bob}: And at night?\n{BOT}:")
    assert [m.content for m in h.sent(thread)] == ["Answer 1.", "Answer 2."]
    outline = await service.request_outline(finished[-1]["request_id"])
    assert outline["proxied_account"] == f"discord:{h.guild.id}:{h.member(2).id}"

    # after a restart the bot still knows its thread: owner + the marker on the starter message
    await h.restart(build_bot(config, service))
    thread = h.guild.get_thread(thread.id)
    serving = asyncio.create_task(worker.serve(3))
    await h.post("Thanks!", channel=thread, member=h.member(1))
    await serving
    assert worker.prompts[2].endswith(f"{bob}: And at night?\n{BOT}: Answer 2.\n{alice}: Thanks!\n{BOT}:")
    assert worker.prompts[2].startswith(f"{alice}: What colour is the sea?\n")
    assert len(h.sent(thread)) == 3 and not h.background_errors


async def test_threads_the_bot_did_not_start_are_left_alone(h: DiscordHarness, service: HordeService,
                                                            server) -> None:
    worker = await _worker(service, server)
    serving = asyncio.create_task(worker.serve(1))
    rec = await h.slash("chat", {"prompt": "hi", "model": MODEL}, user=h.member(1))  # no thread permission here
    await serving
    # a member opens a thread on the bot's plain reply: it carries the marker, but the bot does not own it
    member_thread = {"id": str(rec.original.id), "type": 11, "guild_id": str(h.guild.id),
                     "parent_id": str(h.channel.id), "owner_id": str(h.member(1).id), "name": "not ours",
                     "message_count": 0, "member_count": 1,
                     "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                         "archive_timestamp": "2026-01-01T00:00:00+00:00", "locked": False}}
    h._state.parse_thread_create(member_thread)
    thread = h.guild.get_thread(rec.original.id)
    await h.post("hello bot?", channel=thread, member=h.member(1))  # an answer would wait for a worker: timeout
    await h.post("hello channel", member=h.member(1))
    async with aiohttp.ClientSession() as http:
        assert (await worker.pop(http))["id"] is None  # nothing more was asked of any worker
    assert h.sent(thread) == [] and h.sent(h.channel) == [] and len(worker.received) == 1


async def test_history_is_trimmed_from_the_oldest_to_fit_the_context(h: DiscordHarness, service: HordeService,
                                                                     server) -> None:
    await _allow_threads(h)
    worker = await _worker(service, server, context=256, length=64)
    serving = asyncio.create_task(worker.serve(1))
    rec = await h.slash("chat", {"prompt": "Tell me about lighthouses", "model": MODEL}, user=h.member(1))
    await serving
    thread = h.guild.get_thread(rec.original.id)
    for n in range(3):
        serving = asyncio.create_task(worker.serve(n + 2))
        await h.post(f"message {n} " + "blah " * 50, channel=thread, member=h.member(1 + n % 2))
        await serving
    last = worker.received[-1]["payload"]
    assert (last["max_context_length"], last["max_length"]) == (256, 64)
    assert tokens(last["prompt"]) <= 256 - 64  # room is left for the answer
    assert last["prompt"].endswith(f"{_name(h, 1)}: message 2 " + "blah " * 49 + f"blah\n{BOT}:")
    assert "lighthouses" not in last["prompt"] and "message 0" not in last["prompt"]  # the oldest went first
    assert "lighthouses" in worker.prompts[1]  # ...but only once it no longer fitted


async def test_plain_reply_where_no_thread_can_be_started(h: DiscordHarness, service: HordeService,
                                                          server) -> None:
    worker = await _worker(service, server)  # the bot lacks Create Public Threads in this channel
    serving = asyncio.create_task(worker.serve(1))
    rec = await h.slash("chat", {"prompt": "hi"}, user=h.member(1))  # no model: the most available one
    await serving
    assert rec.original.content == "Answer 1." and not rec.ephemeral
    assert rec.original.embeds[0]["footer"]["text"] == f"💬 hordebot chat · {MODEL}"
    assert list(h.guild.threads) == []


async def test_refusals_say_what_to_do_and_cost_nothing(h: DiscordHarness, service: HordeService,
                                                        server) -> None:
    await _worker(service, server)
    unserved = await h.slash("chat", {"prompt": "hi", "model": "koboldcpp/Nowhere-7B"}, user=h.member(1))
    answer = unserved.followups[-1]
    assert unserved.original.deleted and answer.ephemeral
    assert "No text worker serves `koboldcpp/Nowhere-7B`" in answer.content and MODEL in answer.content
    settings = f"discord:guild:{h.guild.id}"
    await service.update_community_settings(settings, {"allowed_channels": [h.channel.id + 99]}, "admin")
    elsewhere = await h.slash("chat", {"prompt": "hi", "model": MODEL}, user=h.member(1))
    assert f"<#{h.channel.id + 99}>" in elsewhere.followups[-1].content
    await service.update_community_settings(settings, {"allowed_channels": None, "chat": False}, "admin")
    off = await h.slash("chat", {"prompt": "hi", "model": MODEL}, user=h.member(1))
    assert off.followups[-1].ephemeral and "switched off" in off.followups[-1].content
    user = await service.user_for_identity(f"discord:{h.member(1).id}", "x", starting_kudos=25)
    assert user.kudos == 25 == service.config.bot.starting_kudos


async def test_chat_switched_off_is_explained_in_the_thread_and_kept_out_of_history(
        h: DiscordHarness, service: HordeService, server) -> None:
    await _allow_threads(h)
    worker = await _worker(service, server)
    serving = asyncio.create_task(worker.serve(1))
    rec = await h.slash("chat", {"prompt": "hi", "model": MODEL}, user=h.member(1))
    await serving
    thread = h.guild.get_thread(rec.original.id)
    scope = f"discord:guild:{h.guild.id}"
    await service.update_community_settings(scope, {"chat": False}, "admin")
    await h.post("still there?", channel=thread, member=h.member(1))
    notice = h.sent(thread)[-1]
    assert "switched off" in notice.embeds[0]["description"] and not notice.content
    await service.update_community_settings(scope, {"chat": None}, "admin")
    serving = asyncio.create_task(worker.serve(2))
    await h.post("now?", channel=thread, member=h.member(1))
    await serving
    assert "switched off" not in worker.prompts[1]
    assert worker.prompts[1].endswith(f"{_name(h, 1)}: still there?\nnow?\n{BOT}:")  # one turn, two messages


async def test_no_text_worker_online(h: DiscordHarness) -> None:
    rec = await h.slash("chat", {"prompt": "hi"}, user=h.member(1))
    assert "No text worker is online" in rec.followups[-1].content and rec.followups[-1].ephemeral


async def test_not_enough_kudos_says_how_to_earn(h: DiscordHarness, service: HordeService, server) -> None:
    await _worker(service, server, context=32000, length=1024)  # a huge context costs more than members have
    rec = await h.slash("chat", {"prompt": "hi", "model": MODEL}, user=h.member(1))
    answer = rec.followups[-1]
    assert answer.ephemeral and "kudos" in answer.content and "/worker key" in answer.content


async def test_model_autocomplete_shows_workers_and_queue(h: DiscordHarness, service: HordeService, server) -> None:
    await _worker(service, server)
    choices = await h.autocomplete("chat", "model", "test", options={"prompt": "x"}, user=h.member(1))
    assert choices == [{"name": f"{MODEL} — 1 workers, 0 queued", "value": MODEL}]


# --- the pure parts -------------------------------------------------------------------------------


def test_prompt_keeps_the_newest_turns_and_the_end_of_an_overlong_one() -> None:
    turns = [Turn("Ann", "one"), Turn("Bot", "two"), Turn("Ann", "three")]
    assert build_prompt(turns, "Bot", 100) == "Ann: one\nBot: two\nAnn: three\nBot:"
    assert build_prompt(turns, "Bot", 6) == "Bot: two\nAnn: three\nBot:"  # 24 characters: 6 tokens
    long = build_prompt([Turn("Ann", "x" * 500 + "the question?")], "Bot", 20)
    assert tokens(long) <= 20 and long.endswith("the question?\nBot:") and long.startswith("Ann: …")


def test_limits_follow_the_workers_and_the_model_reference() -> None:
    assert context_limits(4096, [(8192, 512)]) == (4096, 200)  # the model's own size caps the worker's
    assert context_limits(None, [(1024, 100), (2048, 80)]) == (2048, 80)  # the most capable worker
    assert context_limits(None, []) is None


def test_answers_are_cut_at_other_turns_and_split_for_discord() -> None:
    assert clean_answer(" Fine.\nAnn: and you?", ["\nAnn:", "\nBot:"]) == "Fine."
    parts = chunks(("word " * 500).strip())
    assert all(len(p) <= 2000 for p in parts) and " ".join(parts) == ("word " * 500).strip()
