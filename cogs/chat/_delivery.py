"""How /chat's answers are delivered: an opening message carrying the question, a thread holding the answer
(or the answer in the reply itself where no thread can be started); in a chat thread, the next answer.

The courier (bot/deliveries.py) decides where: the command's reply while its token works, else a reply in the
channel that mentions the member (a thread is started on it), else a DM. Failures are the member's business
only, so they go privately; in a thread they are a notice embed, as a thread cannot whisper.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import discord

from bot.targets import NO_MENTIONS, Target
from horde_core.service import Delivery, RequestNotFound

from ._history import chunks, clean_answer, footer

log = logging.getLogger(__name__)
CHAT, REPLY = "chat", "chat_reply"  # the /chat command; a member's message in a chat thread


@dataclass(frozen=True, slots=True)
class Opening:
    """What a chat thread's starter message says: who asked what, of which model."""

    asker: str
    prompt: str
    model: str

    def context(self) -> dict[str, Any]:
        return asdict(self)


def thread_name(prompt: str) -> str:
    text = " ".join(prompt.split())
    return "💬 " + (text[:90] + "…" if len(text) > 90 else text)


def notice_embed(text: str) -> discord.Embed:
    """Refusals in a thread cannot be private; as an embed without text they stay out of the history."""
    return discord.Embed(description=text, colour=discord.Colour.red())


class ChatAnswers:
    """The renderer the courier calls for "chat" and "chat_reply" deliveries."""

    def __init__(self, service: Any) -> None:
        self.service = service

    async def finished(self, d: Delivery) -> bool:
        return (await self.service.check(d.request_id, "text")).done

    async def progress(self, d: Delivery) -> None:
        return None  # "thinking…" (or typing, in a thread) says enough

    async def cancel(self, d: Delivery) -> None:
        await self.service.cancel(d.request_id, "text")

    async def _answer(self, d: Delivery, timed_out: bool) -> tuple[str, str | None]:
        """The cleaned answer, or why there is none."""
        late = ("No text worker answered in time; unused kudos were refunded. Try again later, or pick another "
                "model.")
        if timed_out:
            return "", late
        try:
            status = await self.service.status(d.request_id, "text")
        except RequestNotFound:
            return "", late
        if not status.generations:
            return "", "The text workers that tried this failed; your kudos were refunded. Try again."
        answers = [g.text for g in status.generations if not g.censored]
        if not answers:
            return "", "The worker withheld its answer as against its rules. Try saying it differently."
        return clean_answer(answers[0], d.context.get("stops", [])) or "…", None

    async def deliver(self, d: Delivery, target: Target, *, timed_out: bool = False) -> None:
        answer, failure = await self._answer(d, timed_out)
        if d.feature == REPLY:
            if failure is not None:
                await target.first(embed=notice_embed(failure))
                return
            parts = chunks(answer)
            await target.first(content=parts[0])
        elif failure is not None:
            await target.refuse(failure)
            return
        else:
            parts = chunks(answer)
            if await self._opening(d, target, parts):
                return
        for part in parts[1:]:
            await target.more(part)

    async def _opening(self, d: Delivery, target: Target, parts: list[str]) -> bool:
        """The opening message, with a thread holding the answer where one can be started (True), or with the
        answer's first part in it (False: the rest follows as messages)."""
        opening = Opening(**d.context["opening"])
        embed = discord.Embed(description=opening.prompt, colour=discord.Colour.blurple())
        embed.set_author(name=opening.asker)
        if target.can_thread:
            embed.set_footer(text=footer(opening.model, continues=True))
            starter = await target.first(embed=embed)
            thread = None
            try:
                if starter is not None:
                    thread = await target.start_thread(starter, thread_name(opening.prompt))
            except (discord.HTTPException, ValueError) as exc:
                log.info("could not start a chat thread in %s (%s); answering in the reply", d.channel, exc)
            if thread is not None:
                for part in parts:
                    await thread.send(part, allowed_mentions=NO_MENTIONS)
                return True
            embed.set_footer(text=footer(opening.model, continues=False))
            await target.edit(starter, content=parts[0], embed=embed, allowed_mentions=NO_MENTIONS)
            return False
        embed.set_footer(text=footer(opening.model, continues=False))
        await target.first(content=parts[0], embed=embed)
        return False
