"""The courier: every result the bot owes a member is followed from the core's database, not from memory.

A command writes, with its request and in the same transaction, where the result goes (`spec` builds that note)
and then follows it (`deliver`): progress edits while Discord lets the bot edit its reply, the result once the
core says the request is done. On start, and every `sweep_interval` seconds, the courier claims the deliveries
nobody follows (a restart, a deploy, a process that died and whose lease ran out) and carries them on. The
"job_finished" event wakes a follower at once; a poll every `poll_interval` seconds is the fallback.

Exactly once: a process posts only what it holds the lease on, renewed while it waits and once more right before
it posts; two processes never hold the same lease. A process killed mid-post leaves a lease that runs out, so its
delivery is taken over; the post it was making never reached Discord, or it would have been finished.

Where the result goes: the command's own reply while its token works (15 minutes); then a reply in the channel
that mentions the member; when the channel is gone or the bot lost access, a DM; when nothing takes it, it stays
"stranded" for the member to fetch from /account, and the reasons are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import discord

from horde_core.service import Delivery, DeliverySpec, RequestNotFound

from . import settings as guild_settings
from .i18n import tr_for
from .targets import ChannelPost, DirectMessage, InteractionReply, PrivateAnswer, Target, Unreachable
from .waiting import Wakeups

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 15 * 60.0  # Discord lets a bot edit its interaction reply this long
TOKEN_MARGIN = 30.0  # stop using a token this much earlier (the clock started before we wrote it down)
NOTICE_BEFORE = 120.0  # this long before the token ends, say where the result will go (or cancel, if asked to)
MAX_FAILURES = 5  # a result that crashed its process or failed to render this often is stranded, not retried


class Renderer(Protocol):
    """What a feature (a cog) knows about its results; the courier knows where and when to post them."""

    async def finished(self, d: Delivery) -> bool: ...

    async def progress(self, d: Delivery) -> tuple[discord.Embed, discord.ui.View | None] | None: ...

    async def cancel(self, d: Delivery) -> None: ...

    async def deliver(self, d: Delivery, target: Target, *, timed_out: bool = False) -> None: ...


@dataclass(slots=True)
class _Watch:
    """What one follower has shown so far (only the process following the delivery needs it)."""

    shown: dict[str, Any] | None = None
    shown_at: float = float("-inf")
    noticed: bool = False
    cancelled: bool = False
    edits_fail: bool = False


def notice_text(private: bool, say: Callable[[str], str] = str) -> str:
    return say("⏳ This is taking a while. No need to wait here: I'll send you the result in a direct message when "
               "it's done.") if private else say("⏳ This is taking a while. No need to wait here: I'll post the "
                                                 "result in this channel and mention you when it's done.")


class Deliveries:
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = 90.0
        self.poll_interval = 5.0
        self.sweep_interval = 30.0
        self.edit_interval = 5.0  # Discord-friendly: progress is edited at most this often
        self.edits: dict[str, int] = {}  # progress edits per request (measured by the benchmark)
        self.wakeups = Wakeups()
        self._renderers: dict[str, Renderer] = {}
        self._following: dict[str, asyncio.Task[Any]] = {}  # delivery id -> the task following it
        self._requests: dict[str, str] = {}  # request id -> delivery id, for the deliveries followed here
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopped = True

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def register(self, feature: str, renderer: Renderer) -> None:
        self._renderers[feature] = renderer

    def unregister(self, feature: str) -> None:
        self._renderers.pop(feature, None)

    async def start(self) -> None:
        """Resume every open delivery nobody follows, then keep looking (setup_hook, after the cogs loaded)."""
        self._stopped = False
        self.service.events.subscribe("job_finished", self._on_job_finished)
        await self.sweep()
        self._spawn(self._sweep_forever(), "deliveries: sweep")

    async def stop(self) -> None:
        """A clean shutdown: stop following and hand every delivery back, so the next process resumes at once."""
        self._stopped = True
        self.service.events.unsubscribe("job_finished", self._on_job_finished)
        tasks = [*self._tasks, *self._following.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Every lease of this process, including deliveries a command wrote with its request a moment ago and had
        # not started following: the next process must not wait out their 90 s lease.
        with contextlib.suppress(Exception):
            await self.service.release_deliveries(self.holder)

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("looking for deliveries to resume failed; will retry")

    async def sweep(self) -> None:
        """Re-check every delivery followed here, and take over those nobody follows."""
        self.wakeups.wake_all()
        for d in await self.service.claimable_deliveries(features=list(self._renderers)):
            await self._take(d)

    async def _take(self, d: Delivery) -> None:
        if d.feature not in self._renderers or d.id in self._following or self._stopped:
            return
        claimed = await self.service.claim_delivery(d.id, self.holder, self.lease)
        if claimed is None:
            return  # another process was quicker
        if claimed.failures >= MAX_FAILURES:
            log.warning("giving up on delivery %s of request %s after %d failed tries", d.id, d.request_id,
                        claimed.failures)
            await self.service.strand_delivery(d.id, self.holder, f"failed {claimed.failures} times")
            return
        task = asyncio.create_task(self.follow(claimed), name=f"deliveries: {d.feature} {d.request_id}")
        self._following.setdefault(d.id, task)

    def _on_job_finished(self, payload: dict[str, Any]) -> None:
        request_id = str(payload.get("request_id", ""))
        if request_id in self._requests:
            self.wakeups.wake(request_id)
        elif not self._stopped:
            self._spawn(self._adopt(request_id), "deliveries: adopt")

    async def _adopt(self, request_id: str) -> None:
        """A request finished that nobody here follows: perhaps its process died and the lease ran out."""
        for d in await self.service.claimable_deliveries(request_id=request_id):
            await self._take(d)

    def wake(self, request_id: str) -> None:
        """Let the follower of a request look again now (after a Cancel button, for instance)."""
        self.wakeups.wake(request_id)

    async def idle(self) -> None:
        """Until this process follows nothing (what is still queued, the next process resumes)."""
        while self._following:
            await asyncio.wait(list(self._following.values()))

    # --- accepting work ----------------------------------------------------------------------------------------

    async def spec(self, interaction: discord.Interaction, feature: str, *, reply: int | None, long_queues: str,
                   private: bool = False, context: dict[str, Any] | None = None) -> DeliverySpec:
        """Where the result of work accepted for this interaction goes; `reply` is the deferred reply's id."""
        if reply is None:
            reply = (await interaction.original_response()).id
        guild = interaction.guild_id
        return DeliverySpec(
            feature=feature, holder=self.holder, lease=self.lease,
            community=guild_settings.scope(guild) if guild else "", channel=str(interaction.channel_id or ""),
            recipient=str(interaction.user.id), application=str(interaction.application_id),
            token=interaction.token, token_expires=self.service.clock.now() + TOKEN_LIFETIME - TOKEN_MARGIN,
            message=str(reply), private=private,
            context={"long_queues": long_queues, "locale": str(interaction.locale), **(context or {})})

    def spec_for_message(self, message: discord.Message, feature: str,
                         context: dict[str, Any] | None = None) -> DeliverySpec:
        """Where the answer to a member's message goes: a reply in the same channel (or thread); no token."""
        channel = message.channel
        parent = getattr(channel, "parent_id", None)
        guild = message.guild.id if message.guild is not None else None
        return DeliverySpec(
            feature=feature, holder=self.holder, lease=self.lease,
            community=guild_settings.scope(guild) if guild else "", channel=str(parent or channel.id),
            thread=str(channel.id) if parent else "", recipient=str(message.author.id), message=str(message.id),
            context={"long_queues": "wait", **(context or {})})

    async def deliver(self, request_id: str) -> None:
        """Follow the delivery this process just wrote with `request_id` until it is handed over."""
        d = await self.service.held_delivery(request_id, self.holder)
        if d is None:
            return  # already taken over (this process stalled past its lease): the new holder posts it
        if self._stopped:  # written as this process stopped: hand it to the next one rather than hold its lease
            await self.service.release_delivery(d.id, self.holder)
            return
        self._following[d.id] = asyncio.current_task()  # type: ignore[assignment]
        await self.follow(d)

    # --- following -------------------------------------------------------------------------------------------

    async def follow(self, d: Delivery) -> None:
        """Wait for the request, showing progress, then hand the result over. Never raises (but a cancel)."""
        renderer = self._renderers.get(d.feature)
        wake = self.wakeups.watch(d.request_id)
        self._requests[d.request_id] = d.id
        watch = _Watch()
        try:
            if renderer is None:
                raise RuntimeError(f"nothing renders {d.feature!r} results here")
            while True:
                wake.clear()
                d = await self._renew(d)
                if await self._finished(renderer, d) or await self._waiting(d, renderer, watch):
                    break
                await self.wakeups.wait(wake, self.poll_interval)
            await self._hand_over(d, renderer, timed_out=watch.cancelled)
        except _Lost:
            log.info("delivery %s was taken over by another process", d.id)
        except Exception:
            log.exception("delivering %s of request %s failed; another try will follow", d.feature, d.request_id)
            with contextlib.suppress(Exception):
                await self.service.release_delivery(d.id, self.holder, failed=True)
        finally:
            self._following.pop(d.id, None)
            self._requests.pop(d.request_id, None)
            self.wakeups.forget(d.request_id)

    async def _renew(self, d: Delivery, *, now: bool = False) -> Delivery:
        clock = self.service.clock.now()
        if now or d.lease_until - clock < self.lease * 2 / 3:
            if not await self.service.renew_delivery(d.id, self.holder, self.lease):
                raise _Lost
            d = replace(d, lease_until=clock + self.lease)
        return d

    @staticmethod
    async def _finished(renderer: Renderer, d: Delivery) -> bool:
        try:
            return await renderer.finished(d)
        except RequestNotFound:
            return True  # expired or pruned: the renderer says so

    def _reply(self, d: Delivery) -> InteractionReply | None:
        if d.token and d.message and d.application and self.service.clock.now() < d.token_expires:
            return InteractionReply(self.bot, d)
        return None

    async def _waiting(self, d: Delivery, renderer: Renderer, watch: _Watch) -> bool:
        """While the request waits: progress, then near the token's end a notice (or, if the guild wants it, a
        cancel). True when waiting is over (cancelled with nothing left in flight)."""
        reply = self._reply(d)
        late = d.token_expires > 0 and self.service.clock.now() >= d.token_expires - NOTICE_BEFORE
        if late and d.context.get("long_queues") == "cancel":
            if not watch.cancelled:
                watch.cancelled = True
                with contextlib.suppress(RequestNotFound):  # expired meanwhile: refunded all the same
                    await renderer.cancel(d)
                return await self._finished(renderer, d)
            return False
        if reply is None or watch.edits_fail:
            return False
        try:
            if late and not watch.noticed:
                await reply.notice(notice_text(d.private, lambda text: tr_for(self.bot, d.context.get("locale"), text)))
                watch.noticed = True
            elif not late:
                await self._show_progress(d, renderer, reply, watch)
        except discord.HTTPException as exc:  # the reply was deleted, or the token stopped working early
            log.info("cannot edit the reply of delivery %s any more: %s", d.id, exc)
            watch.edits_fail = True
        return False

    async def _show_progress(self, d: Delivery, renderer: Renderer, reply: InteractionReply, watch: _Watch) -> None:
        shown = await renderer.progress(d)
        if shown is None:
            return
        embed, view = shown
        if embed.to_dict() == watch.shown or time.monotonic() - watch.shown_at < self.edit_interval:
            return
        await reply.show(embed, view)
        self.edits[d.request_id] = self.edits.get(d.request_id, 0) + 1
        watch.shown, watch.shown_at = embed.to_dict(), time.monotonic()

    def _targets(self, d: Delivery) -> list[Callable[[], Target]]:
        targets: list[Callable[[], Target]] = []
        if self._reply(d) is not None:
            targets.append(lambda: InteractionReply(self.bot, d))
        if not d.private and (d.channel or d.thread):
            targets.append(lambda: ChannelPost(self.bot, d))
        if d.recipient:
            targets.append(lambda: DirectMessage(self.bot, d))
        return targets

    async def _hand_over(self, d: Delivery, renderer: Renderer, *, timed_out: bool) -> None:
        d = await self._renew(d, now=True)  # still ours, right before posting
        await self.bot.wait_until_ready()  # channels and permissions are known
        reasons = []
        for make in self._targets(d):
            target = make()
            try:
                await renderer.deliver(d, target, timed_out=timed_out)
            except Unreachable as exc:
                reasons.append(str(exc))
                continue
            except Exception:
                if not target.posted:
                    raise
                log.exception("delivery %s: the first message reached %s, a later one failed", d.id, target.name)
            await self.service.finish_delivery(d.id, self.holder)
            return
        reason = "; ".join(reasons) or "nowhere to post it"
        log.warning("the %s result of request %s for member %s could not be delivered (%s); it waits in /account",
                    d.feature, d.request_id, d.recipient, reason)
        await self.service.strand_delivery(d.id, self.holder, reason)

    # --- fetching what could not be delivered ----------------------------------------------------------------

    async def retrieve(self, interaction: discord.Interaction, delivery_id: str, user_id: int) -> bool:
        """Hand a stranded result to its member, privately; False when it is gone (or not theirs)."""
        d = await self.service.claim_undelivered(delivery_id, user_id, self.holder, self.lease)
        if d is None:
            return False
        renderer = self._renderers.get(d.feature)
        try:
            if renderer is None:
                raise RuntimeError(f"nothing renders {d.feature!r} results here")
            await renderer.deliver(d, PrivateAnswer(self.bot, d, interaction))
        except BaseException:
            with contextlib.suppress(Exception):
                await self.service.release_delivery(d.id, self.holder)
            raise
        await self.service.finish_delivery(d.id, self.holder)
        return True


class _Lost(Exception):
    """Another process holds the delivery now; this one must post nothing."""

