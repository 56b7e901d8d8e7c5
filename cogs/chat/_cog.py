"""/chat: ask a text model, get the answer in a thread, and keep talking there with plain messages.

The bot recognises its chat threads after a restart without any table of its own: Discord remembers
who started a thread (its owner is the bot) and the thread's starter message is the bot's opening
message, whose footer carries a marker and the model (see `_history.footer`). Answers are owed like any
result: queued with a note of where they go, and delivered by the courier (see `_delivery.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError, explain, reply_private
from bot.guards import BLANK_PROMPT, blank, blocked_word, channel_allows_nsfw, refusal, refuse_after_defer
from bot.members import CLIENT_AGENT, proxied_account
from horde_core.service import DeliverySpec, HordeError
from horde_core.service.schemas import TextRequestSpec

from ._delivery import CHAT, REPLY, ChatAnswers, Opening, notice_embed
from ._history import (
    ANSWER_TOKENS,
    Turn,
    build_prompt,
    context_limits,
    model_from_footer,
    speaker_name,
    stop_sequences,
)

log = logging.getLogger(__name__)
HISTORY_LIMIT = 100  # one page of Discord history; the context window is usually the tighter limit
CHAT_MESSAGES = (discord.MessageType.default, discord.MessageType.reply)
# The context asked of an upstream horde's text workers, whose limits we do not see: most take 2048.
UPSTREAM_CONTEXT = 2048


@dataclass(frozen=True, slots=True)
class Ask:
    """One question for a text model, on behalf of one member."""

    member: discord.abc.User
    guild_id: int | None
    prompt: str
    model: str
    context: int
    length: int
    stops: list[str]
    nsfw: bool


class ChatCog(commands.Cog, name="Chat"):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service
        self.deliveries = bot.deliveries
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}  # per thread: its lock and how many wait on it

    async def cog_load(self) -> None:
        answers = ChatAnswers(self.service)
        self.deliveries.register(CHAT, answers)
        self.deliveries.register(REPLY, answers)

    async def cog_unload(self) -> None:
        self.deliveries.unregister(CHAT)
        self.deliveries.unregister(REPLY)

    async def _models(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        models = [m for m in await self.service.models_status("text") if current.lower() in m.name.lower()]
        models.sort(key=lambda m: (-m.count, m.name))
        return [app_commands.Choice(name=f"{m.name} — {m.count} workers, {m.jobs} queued"[:100], value=m.name)
                for m in models[:25]]

    @app_commands.command(name="chat", description="Talk with a text model; the conversation goes on in a thread")
    @app_commands.describe(prompt="What to say", model="Which text model (default: the most available)")
    @app_commands.autocomplete(model=_models)
    async def chat(self, interaction: discord.Interaction, prompt: app_commands.Range[str, 1, 1000],
                   model: str | None = None) -> None:
        if blank(prompt):
            await reply_private(interaction, BLANK_PROMPT)  # before anything public or paid
            return
        ack = await interaction.response.defer(thinking=True)
        try:
            await self._start(interaction, prompt, model, getattr(ack, "message_id", None))
        except Exception as exc:  # after the public deferral, every refusal and failure ends privately
            await refuse_after_defer(interaction, exc)

    async def _start(self, interaction: discord.Interaction, prompt: str, model: str | None,
                     reply: int | None) -> None:
        settings = await self.bot.guild_settings(interaction.guild_id)
        why = refusal(settings, "chat", "Chat", interaction.channel, interaction.channel_id)
        if why:
            raise UserFacingError(why)
        word = blocked_word(settings, prompt)
        if word:
            raise UserFacingError(f"This server does not allow `{word}` in prompts. Rephrase and try again.")
        asker = speaker_name(interaction.user.display_name)
        bot_name = self._bot_name(interaction.guild)
        chosen, context, length = await self._limits(model)
        stops = stop_sequences([asker], bot_name)
        deliver = await self.deliveries.spec(interaction, CHAT, reply=reply, long_queues=settings["long_queues"],
                                             context={"opening": Opening(asker, prompt, chosen).context(),
                                                      "stops": stops, "summary": prompt[:80]})
        await self._ask(Ask(
            member=interaction.user, guild_id=interaction.guild_id,
            prompt=build_prompt([Turn(asker, prompt)], bot_name, context - length), model=chosen,
            context=context, length=length, stops=stops,
            nsfw=settings["nsfw"] == "age_restricted" and channel_allows_nsfw(interaction.channel)), deliver)

    # --- follow-ups: plain messages in a chat thread ----------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        thread = message.channel
        me = self.bot.user
        if (message.author.bot or me is None or not isinstance(thread, discord.Thread) or thread.owner_id != me.id
                or message.type not in CHAT_MESSAGES or not message.content.strip()):
            return
        opening = await self._opening(thread)
        if opening is None:
            return  # a thread the bot started for something else
        async with self._one_at_a_time(thread.id):
            try:
                async with thread.typing():
                    await self._follow_up(message, thread, opening)
            except (UserFacingError, HordeError) as exc:
                await self._notice(message, explain(exc))

    @contextlib.asynccontextmanager
    async def _one_at_a_time(self, thread_id: int) -> AsyncIterator[None]:
        """Answers in one thread are written in turn, so each one sees the answer before it."""
        lock, users = self._locks.get(thread_id, (asyncio.Lock(), 0))
        self._locks[thread_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[thread_id]
            if users == 1:
                del self._locks[thread_id]
            else:
                self._locks[thread_id] = (lock, users - 1)

    async def _opening(self, thread: discord.Thread) -> Opening | None:
        """The chat this thread continues, read from its starter message (fetched after a restart)."""
        starter = thread.starter_message
        if starter is None and isinstance(thread.parent, discord.TextChannel):
            try:
                starter = await thread.parent.fetch_message(thread.id)
            except discord.HTTPException:
                return None
        if starter is None or self.bot.user is None or starter.author.id != self.bot.user.id or not starter.embeds:
            return None
        embed = starter.embeds[0]
        model = model_from_footer(embed.footer.text)
        if model is None:
            return None
        return Opening(embed.author.name or "Member", embed.description or "", model)

    async def _follow_up(self, message: discord.Message, thread: discord.Thread, opening: Opening) -> None:
        settings = await self.bot.guild_settings(thread.guild.id)
        why = refusal(settings, "chat", "Chat", thread)
        if why:
            raise UserFacingError(why)
        word = blocked_word(settings, message.content)
        if word:
            raise UserFacingError(f"This server does not allow `{word}` in prompts. Rephrase and try again.")
        bot_name = self._bot_name(thread.guild)
        history = sorted([m async for m in thread.history(limit=HISTORY_LIMIT)], key=lambda m: m.id)
        turns = [Turn(opening.asker, opening.prompt)] if len(history) < HISTORY_LIMIT else []
        for past in history:
            if past.type not in CHAT_MESSAGES:
                continue  # the thread-starter stub and other system messages
            if self.bot.user is not None and past.author.id == self.bot.user.id:
                turns.append(Turn(bot_name, past.content))  # notices are embeds without content: skipped
            elif not past.author.bot:
                turns.append(Turn(speaker_name(past.author.display_name), past.clean_content))
        model, context, length = await self._limits(opening.model)
        speakers = [t.speaker for t in turns if t.speaker != bot_name]
        stops = stop_sequences(speakers, bot_name)
        deliver = self.deliveries.spec_for_message(message, REPLY, {"stops": stops, "mention": False,
                                                                    "summary": message.content[:80]})
        await self._ask(Ask(
            member=message.author, guild_id=thread.guild.id, prompt=build_prompt(turns, bot_name, context - length),
            model=model, context=context, length=length, stops=stops,
            nsfw=settings["nsfw"] == "age_restricted" and channel_allows_nsfw(thread)), deliver)

    async def _notice(self, message: discord.Message, text: str) -> None:
        """Refusals in a thread cannot be private; as an embed without text they stay out of the history."""
        try:
            await message.reply(embed=notice_embed(text), mention_author=False)
        except discord.HTTPException:
            log.exception("could not tell a member why their chat message got no answer")

    # --- the core -----------------------------------------------------------------------------

    def _bot_name(self, guild: discord.Guild | None) -> str:
        me = guild.me if guild is not None else self.bot.user
        return speaker_name(me.display_name if me is not None else "Bot")

    async def _limits(self, model: str | None) -> tuple[str, int, int]:
        """The model to ask (the most available one by default) and the context and length it accepts."""
        served = {m.name: m.count for m in await self.service.models_status("text") if m.count}
        upstream = self.service.upstream_models("text")  # upstream mode: a public horde's models too
        if not served and not upstream:
            raise UserFacingError("No text worker is online right now, so nobody can answer. Try again later.")
        if model is None:
            model = min(served, key=lambda name: (-served[name], name)) if served else min(upstream)
        unserved = UserFacingError(f"No text worker serves `{model}` right now. "
                                   f"Models being served: {', '.join(sorted({*served, *upstream}))}.")
        if model not in served and model not in upstream:
            raise unserved
        workers = [(w.max_context_length, w.max_length) for w in await self.service.list_workers("text")
                   if w.online and not w.maintenance_mode and model in w.models]
        if not workers and model in upstream:
            workers = [(UPSTREAM_CONTEXT, ANSWER_TOKENS)]
        known = self.service.reference.get(model)
        reference_context = known.max_context_length if known is not None and known.kind == "text" else None
        limits = context_limits(reference_context, workers, ANSWER_TOKENS)
        if limits is None:
            raise unserved
        return model, *limits

    async def _ask(self, ask: Ask, deliver: DeliverySpec) -> None:
        """Submit in the member's name with the note of where the answer goes, then follow it to delivery."""
        user = await self.bot.member_user(ask.member)
        spec = TextRequestSpec.model_validate({
            "prompt": ask.prompt, "models": [ask.model], "nsfw": ask.nsfw,
            "params": {"max_length": ask.length, "max_context_length": ask.context, "n": 1,
                       "stop_sequence": ask.stops},
            "proxied_account": proxied_account(ask.guild_id, ask.member.id)})
        try:
            accepted = await self.service.request_text(user, spec, client_agent=CLIENT_AGENT, deliver=deliver)
        except HordeError as exc:
            if exc.rc == "KudosUpfront":
                raise UserFacingError(f"{exc.message} Earn kudos by attaching a worker (`/worker key`), or pick "
                                      "a model with a smaller context (it costs less).") from exc
            raise
        assert accepted.id is not None
        await self.deliveries.deliver(accepted.id)
