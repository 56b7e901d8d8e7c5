"""Test harness for the Discord bot: dpytest for the gateway side, the REAL interaction pipeline, HTTP-level capture.

    h = await make_bot(MyBot(intents=...))          # configures dpytest, runs the bot's setup_hook
    rec = await h.slash("worker key", options={"name": "alpha"})
    assert rec.type == 4 and rec.ephemeral and "alpha" in rec.content
    await h.close()

How it works (see README.md):

* Interactions are built as ``INTERACTION_CREATE`` payloads and fed to ``ConnectionState.parse_interaction_create``,
  so discord.py's own ``CommandTree`` / ``ViewStore`` parse options, run checks, autocomplete, views, dynamic items
  and modals.  The harness waits for exactly the tasks that dispatch created (plus event listeners they fire).
* Whatever discord.py sends back is captured where it leaves discord.py: ``AsyncWebhookAdapter.request`` (interaction
  callbacks, followups, ``@original``; this is where discord.py 2.7 sends all of them) and the bot's
  ``HTTPClient.request`` (same routes if a future discord.py moves them there, plus command sync).  A small fake
  Discord answers with realistic JSON (message objects with ids), so ``original_response()``,
  ``followup.send(wait=True).edit()`` etc. keep working and are captured too.
* dpytest 0.7.0 gaps are fixed here, in tests/, without touching dpytest or discord.py: the reaction payload gets
  its ``type`` field (CraftSpider/dpytest#129), and channel sends keep components, flags and files (dpytest drops
  them and writes ``./dpytest_N.dat`` into the working directory).
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import datetime as dt
import enum
import itertools
import json
import logging
import mimetypes
import pathlib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord
import discord.ext.test as dpytest
from discord import app_commands
from discord.ext.test import backend as dpy_backend
from discord.ext.test import callbacks as dpy_callbacks
from discord.ext.test import factories as dpy_factories
from discord.ext.test import runner as dpy_runner
from discord.http import Route
from discord.webhook.async_ import AsyncWebhookAdapter

__all__ = [
    "AttachmentInput",
    "CapturedCall",
    "CapturedFile",
    "DiscordHarness",
    "HarnessError",
    "InteractionFailed",
    "InteractionRecord",
    "SentMessage",
    "make_bot",
]

EPHEMERAL = 64
LOADING = 128
DEFAULT_TIMEOUT = 5.0
TOKEN_LIFETIME = 15 * 60  # Discord: an interaction token works for 15 minutes
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

_log = logging.getLogger(__name__)
_CURRENT: contextvars.ContextVar[_Tracker | None] = contextvars.ContextVar("hordebot_harness_tracker", default=None)
_ACTIVE: DiscordHarness | None = None
_ORIGINAL_ADAPTER_REQUEST = AsyncWebhookAdapter.request


class _NoSession:
    """Stands in for the aiohttp session of a logged-in client; touching it means a request escaped the fakes."""

    closed = False

    async def close(self) -> None:
        """Closing it is all a closing client does with it."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"the test harness never touches the network (session.{name})")


_NO_SESSION = _NoSession()


class HarnessError(AssertionError):
    """The test asked for something a Discord user could not do, or the bot misbehaved in a way Discord rejects."""


class InteractionFailed(HarnessError):
    """A handler raised (an error reached discord.py's default logging) or never acknowledged the interaction."""

    def __init__(self, message: str, record: InteractionRecord | None = None) -> None:
        super().__init__(message)
        self.record = record


class _FakeResponse:
    """Enough of an aiohttp response for ``discord.HTTPException``."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason


def _discord_error(status: int, code: int, message: str) -> discord.HTTPException:
    body = {"code": code, "message": message}
    if status == 404:
        return discord.NotFound(_FakeResponse(404, "Not Found"), body)
    if status == 403:
        return discord.Forbidden(_FakeResponse(403, "Forbidden"), body)
    reason = {401: "Unauthorized"}.get(status, "Bad Request")
    return discord.HTTPException(_FakeResponse(status, reason), body)


# --------------------------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class CapturedFile:
    filename: str
    data: bytes
    description: str | None = None

    @property
    def spoiler(self) -> bool:
        return self.filename.startswith("SPOILER_")


@dataclass
class CapturedCall:
    """One HTTP request discord.py made, as it would have gone to Discord."""

    method: str
    path: str  # route template, e.g. "/interactions/{webhook_id}/{webhook_token}/callback"
    url: str
    body: dict[str, Any] | None  # JSON body (the ``payload_json`` part for multipart requests)
    files: list[CapturedFile] = field(default_factory=list)
    params: dict[str, Any] | None = None
    via: str = "webhook_adapter"  # or "http_client"
    response: Any = None  # what the fake Discord answered

    @property
    def type(self) -> int | None:
        """Interaction callback type (4 message, 5 deferred, 6 deferred update, 7 update, 8 autocomplete, 9 modal)."""
        return self.body.get("type") if self.body and "/callback" in self.path else None

    @property
    def data(self) -> dict[str, Any]:
        """Message-ish part of the body: ``data`` of a callback, the whole body otherwise."""
        if not self.body:
            return {}
        if "/callback" in self.path:
            return self.body.get("data") or {}
        return self.body


def _walk_components(components: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for comp in components or ():
        yield comp
        yield from _walk_components(comp.get("components") or ())
        if comp.get("component"):
            yield from _walk_components([comp["component"]])
        if comp.get("accessory"):
            yield from _walk_components([comp["accessory"]])


def _custom_ids(components: Iterable[Mapping[str, Any]]) -> list[str]:
    return [c["custom_id"] for c in _walk_components(components) if "custom_id" in c]


class _MessageView:
    """Convenience accessors over a message-like JSON dict (``self._json``)."""

    _json: dict[str, Any]

    @property
    def content(self) -> str | None:
        return self._json.get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self._json.get("embeds") or []

    @property
    def embed_objects(self) -> list[discord.Embed]:
        return [discord.Embed.from_dict(e) for e in self.embeds]

    @property
    def components(self) -> list[dict[str, Any]]:
        return self._json.get("components") or []

    @property
    def custom_ids(self) -> list[str]:
        return _custom_ids(self.components)

    def component(self, custom_id: str) -> dict[str, Any]:
        for comp in _walk_components(self.components):
            if comp.get("custom_id") == custom_id:
                return dict(comp)
        raise KeyError(f"no component {custom_id!r}; custom_ids: {self.custom_ids}")

    @property
    def flags(self) -> int:
        return int(self._json.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return self._json.get("attachments") or []


@dataclass(eq=False)
class SentMessage(_MessageView):
    """A message as the fake Discord stores it: interaction responses, followups and channel messages."""

    id: int
    data: dict[str, Any]  # current message object, as Discord would return it (kept up to date by edits)
    kind: str  # "original", "followup" or "channel"
    created_by: CapturedCall | None = None
    files: list[CapturedFile] = field(default_factory=list)
    edits: list[CapturedCall] = field(default_factory=list)
    deleted: bool = False

    @property
    def _json(self) -> dict[str, Any]:  # type: ignore[override]
        return self.data

    @property
    def sent(self) -> dict[str, Any]:
        """The body discord.py sent when creating the message (``{}`` for messages the harness did not see made)."""
        return self.created_by.data if self.created_by else {}

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)


@dataclass(eq=False)
class InteractionRecord(_MessageView):
    """Everything discord.py sent for one interaction.

    ``content``/``embeds``/``components``/``flags``/``ephemeral``/``attachments`` describe the interaction
    *callback* (what was sent first).  ``original`` is the response message as it is now (after edits),
    ``edits`` the bodies of the PATCHes to it, ``followups`` the followup messages.
    """

    payload: dict[str, Any]
    user: discord.abc.User | None = None
    calls: list[CapturedCall] = field(default_factory=list)
    callback: CapturedCall | None = None
    original: SentMessage | None = None
    followups: list[SentMessage] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    background_tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    dispatched_at: float | None = None  # on the harness clock, when it has one (tokens expire 15 min later)
    bot: Any = None  # the bot that received it

    @property
    def _json(self) -> dict[str, Any]:  # type: ignore[override]
        return self.data

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def token(self) -> str:
        return str(self.payload["token"])

    @property
    def type(self) -> int | None:
        return self.callback.type if self.callback else None

    @property
    def data(self) -> dict[str, Any]:
        return self.callback.data if self.callback else {}

    @property
    def files(self) -> list[CapturedFile]:
        return self.callback.files if self.callback else []

    @property
    def deferred(self) -> bool:
        return self.type in (5, 6)

    @property
    def acknowledged(self) -> bool:
        return self.callback is not None

    @property
    def edits(self) -> list[dict[str, Any]]:
        return [c.data for c in self.original.edits] if self.original else []

    @property
    def choices(self) -> list[dict[str, Any]]:
        if self.type != 8:
            raise HarnessError(f"interaction was answered with type {self.type}, not an autocomplete result")
        return list(self.data.get("choices") or [])

    @property
    def modal(self) -> dict[str, Any]:
        if self.type != 9:
            raise HarnessError(f"interaction was answered with type {self.type}, not a modal")
        return self.data

    def messages(self) -> list[SentMessage]:
        """Messages this interaction produced, newest first (used to find components to click)."""
        out: list[SentMessage] = []
        for msg in [*reversed(self.followups), self.original]:
            if msg is not None and msg not in out and not msg.deleted:
                out.append(msg)
        return out


@dataclass
class AttachmentInput:
    """A file a user uploads as an attachment option (``h.attachment(...)`` builds one)."""

    data: bytes
    filename: str
    content_type: str | None = None
    description: str | None = None


# --------------------------------------------------------------------------------------------------------------------
# Task tracking
# --------------------------------------------------------------------------------------------------------------------


class _Tracker:
    """Collects the tasks a dispatch created (roots) and the errors logged while they ran."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.sync = False
        self.closed = False
        self.roots: list[asyncio.Task[Any]] = []
        self.spawned: list[asyncio.Task[Any]] = []
        self.errors: list[BaseException] = []

    def add(self, task: asyncio.Task[Any], coro: Any) -> None:
        if self.sync or getattr(coro, "__name__", "") == "_run_event":
            self.roots.append(task)
        elif "timeout_task_impl" not in getattr(coro, "__qualname__", ""):  # skip discord.ui view-timeout timers
            self.spawned.append(task)

    async def wait(self, max_wait: float, until: Callable[[], bool] | None = None,
                   activity: Callable[[], asyncio.Future[None]] | None = None) -> None:
        """Until every root task is done, or (with ``until``) until that holds, re-checked whenever ``activity``
        (the fake Discord was called) or a root finishes; the roots still running then keep running (the caller
        lists them as background tasks)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        try:
            while pending := [t for t in self.roots if not t.done()]:
                if until is not None and until():
                    self.spawned.extend(pending)
                    self.roots = [t for t in self.roots if t.done()]
                    break
                remaining = deadline - loop.time()
                if remaining <= 0:
                    names = ", ".join(t.get_name() for t in pending)
                    raise InteractionFailed(f"{self.label}: handlers still running after {max_wait}s: {names}")
                woken = [activity()] if until is not None and activity is not None else []
                await asyncio.wait([*pending, *woken], timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.closed = True
        for task in self.roots:
            if not task.cancelled() and task.exception() is not None:
                self.errors.append(task.exception())  # type: ignore[arg-type]


def _event_of(task: asyncio.Task[Any], bot: discord.Client) -> bool:
    """Whether the task runs one of ``bot``'s event listeners (discord.py's ``Client._run_event``)."""
    coro = task.get_coro()
    frame = getattr(coro, "cr_frame", None)
    return getattr(coro, "__name__", "") == "_run_event" and frame is not None and frame.f_locals.get("self") is bot


def _drain_dpytest_queues() -> None:
    """What dpytest's ``empty_queue`` does, without waiting for running events."""
    for queue in (dpy_runner.sent_queue, dpy_runner.error_queue):
        while not queue.empty():
            queue.get_nowait()


class _ErrorLogHandler(logging.Handler):
    """discord.py logs exceptions nobody handled; attribute them to the interaction/event that was running."""

    def __init__(self, harness: DiscordHarness) -> None:
        super().__init__(level=logging.ERROR)
        self.harness = harness

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info and record.exc_info[1] else None
        error = exc or HarnessError(f"discord.py logged an error: {record.getMessage()}")
        tracker = _CURRENT.get()
        if tracker is not None and not tracker.closed:
            tracker.errors.append(error)
        else:
            self.harness.background_errors.append(error)


# --------------------------------------------------------------------------------------------------------------------
# JSON builders
# --------------------------------------------------------------------------------------------------------------------


def _iso(value: dt.datetime | None = None) -> str:
    return (value or dt.datetime.now(dt.UTC)).isoformat()


def _user_json(user: discord.abc.User) -> dict[str, Any]:
    base = getattr(user, "_user", user)
    return {
        "id": str(base.id),
        "username": base.name,
        "discriminator": getattr(base, "discriminator", "0"),
        "global_name": getattr(base, "global_name", None),
        "avatar": None,
        "bot": bool(getattr(base, "bot", False)),
        "public_flags": 0,
    }


def _role_json(role: discord.Role) -> dict[str, Any]:
    return {
        "id": str(role.id),
        "name": role.name,
        "color": role.colour.value,
        "hoist": role.hoist,
        "position": role.position,
        "permissions": str(role.permissions.value),
        "managed": role.managed,
        "mentionable": role.mentionable,
        "flags": 0,
    }


def _overwrites_json(channel: discord.abc.GuildChannel) -> list[dict[str, Any]]:
    out = []
    for target, overwrite in channel.overwrites.items():
        allow, deny = overwrite.pair()
        out.append(
            {
                "id": str(target.id),
                "type": 0 if isinstance(target, discord.Role) else 1,
                "allow": str(allow.value),
                "deny": str(deny.value),
            }
        )
    return out


def _channel_json(channel: discord.abc.GuildChannel | discord.Thread) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(channel.id),
        "type": channel.type.value,
        "guild_id": str(channel.guild.id),
        "name": channel.name,
        "position": getattr(channel, "position", 0),
        "parent_id": str(channel.parent_id) if getattr(channel, "parent_id", None) else None,
        "nsfw": bool(getattr(channel, "nsfw", False)),
        "flags": 0,
    }
    if isinstance(channel, discord.Thread):
        data["thread_metadata"] = {
            "archived": channel.archived,
            "auto_archive_duration": channel.auto_archive_duration,
            "archive_timestamp": _iso(),
            "locked": channel.locked,
        }
        data["owner_id"] = str(channel.owner_id)
        data["message_count"] = channel.message_count or 0
        data["member_count"] = channel.member_count or 0
        data["rate_limit_per_user"] = channel.slowmode_delay or 0
    else:
        data["permission_overwrites"] = _overwrites_json(channel)
        data["topic"] = getattr(channel, "topic", None)
        data["rate_limit_per_user"] = getattr(channel, "slowmode_delay", 0) or 0
        if channel.type in (discord.ChannelType.voice, discord.ChannelType.stage_voice):
            data["bitrate"] = getattr(channel, "bitrate", 64000)
            data["user_limit"] = getattr(channel, "user_limit", 0)
    return data


def _member_json(member: discord.Member, *, with_user: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "roles": [str(r.id) for r in member.roles if not r.is_default()],
        "joined_at": _iso(member.joined_at) if member.joined_at else None,
        "nick": member.nick,
        "avatar": None,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = _user_json(member)
    return data


def _read_file(file: discord.File) -> bytes:
    file.reset(seek=True)
    data = file.fp.read()
    file.reset(seek=True)
    return data if isinstance(data, bytes) else str(data).encode()


def _emoji_str(emoji: str | discord.Emoji | discord.PartialEmoji | discord.Reaction) -> str:
    """Turn an emoji into dpytest's reaction string: the character, or ``"<id>:<name>"`` for custom emoji."""
    if isinstance(emoji, discord.Reaction):
        emoji = emoji.emoji
    if isinstance(emoji, str):
        if ":" not in emoji:
            return emoji
        emoji = discord.PartialEmoji.from_str(emoji)
    if emoji.id is None:
        return str(emoji.name)
    return f"{emoji.id}:{emoji.name}"


# --------------------------------------------------------------------------------------------------------------------
# The harness
# --------------------------------------------------------------------------------------------------------------------


class DiscordHarness:
    """One configured bot, its fake guild(s), and the fake Discord API the bot talks to."""

    def __init__(self, bot: discord.Client, *, max_wait: float = DEFAULT_TIMEOUT, clock: Any = None) -> None:
        self.bot = bot
        self.max_wait = max_wait
        self.clock = clock  # anything with now() (the core's FakeClock): interaction tokens then expire
        self.instances: list[discord.Client] = []  # older bots kept running beside ``bot`` (restart(keep_old=True))
        self.stalled: list[CapturedCall] = []  # calls that never got an answer (see ``stall``)
        self._stall: Callable[[CapturedCall], bool] | None = None
        self._watchers: list[asyncio.Future[None]] = []
        self._dm_channels: dict[int, int] = {}  # user id -> id of the DM channel with the bot
        self._closed_dms: set[int] = set()
        self.records: list[InteractionRecord] = []
        self.calls: list[CapturedCall] = []
        self.background_errors: list[BaseException] = []
        self.synced_commands: dict[int | None, list[dict[str, Any]]] = {}
        self._records_by_token: dict[str, InteractionRecord] = {}
        self._messages: dict[int, SentMessage] = {}
        self._modals: dict[str, dict[str, Any]] = {}
        self._modal_sources: dict[str, InteractionRecord] = {}
        self._command_ids: dict[tuple[str, int | None], int] = {}
        self._tmp = pathlib.Path(tempfile.mkdtemp(prefix="hordebot-bot-tests-"))
        self._file_counter = itertools.count()
        self._log_handler = _ErrorLogHandler(self)
        self._prev_task_factory: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._installed = False
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    async def create(
        cls,
        bot: discord.Client,
        *,
        guilds: int | list[str] = 1,
        text_channels: int | list[str] = 1,
        voice_channels: int | list[str] = 0,
        members: int | list[str] = 2,
        max_wait: float = DEFAULT_TIMEOUT,
        clock: Any = None,
    ) -> DiscordHarness:
        harness = cls(bot, max_wait=max_wait, clock=clock)
        harness._install()
        try:
            await harness._configure(
                bot,
                world=dict(guilds=guilds, text_channels=text_channels, voice_channels=voice_channels, members=members),
            )
        except BaseException:
            await harness.close()
            raise
        return harness

    async def __aenter__(self) -> DiscordHarness:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def restart(self, bot: discord.Client, *, keep_old: bool = False) -> None:
        """Replace the bot with a freshly built one (a process restart) in the SAME Discord world.

        Guilds, channels, members, the bot user and every message (with its components) keep their ids; the new
        bot starts with empty caches and only what its ``setup_hook`` registers (persistent views, dynamic items).
        With ``keep_old`` the old bot is not closed: it keeps running beside the new one (a deploy overlapping the
        old process, or a second shard process) and still reaches this fake Discord; ``stop(old)`` closes it.
        Gateway events (interactions, messages) go to the new bot only.
        """
        snapshot = self._snapshot_world()
        _drain_dpytest_queues()
        if keep_old:
            self.instances.append(self.bot)
        else:
            await self._end_process(self.bot)
        self.bot = bot
        await self._configure(bot, snapshot=snapshot)

    async def stop(self, bot: discord.Client) -> None:
        """Close a bot kept running by ``restart(keep_old=True)`` (a clean shutdown of that process)."""
        self.instances.remove(bot)
        await self._end_process(bot)

    async def _end_process(self, bot: discord.Client) -> None:
        """The bot shuts down (``close()``), then its process is gone: interaction handlers and event listeners
        it was still running die with it (dpytest's ``empty_queue`` would wait for them, forever if they wait for
        something that only happens after the restart)."""
        await self._close_bot(bot)
        running = [t for r in self.records if r.bot is bot for t in r.background_tasks if not t.done()]
        running += [t for t in asyncio.all_tasks() if not t.done() and _event_of(t, bot)]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            for old in reversed(self.instances):
                await self._end_process(old)
            await self._end_process(self.bot)
            for bot in {id(r.bot): r.bot for r in self.records if r.bot is not None}.values():
                await self._end_process(bot)
        finally:
            _drain_dpytest_queues()
            self._uninstall()
            shutil.rmtree(self._tmp, ignore_errors=True)

    async def _close_bot(self, bot: discord.Client | None = None) -> None:
        bot = bot or self.bot
        if bot.is_closed():
            return
        bot.ws = None  # type: ignore[assignment]  # dpytest's FakeWebSocket has no socket; Client.close probes it
        await bot.close()

    def _install(self) -> None:
        global _ACTIVE
        if _ACTIVE is not None and _ACTIVE is not self:
            _ACTIVE._uninstall()
        _ACTIVE = self
        AsyncWebhookAdapter.request = _patched_adapter_request  # type: ignore[method-assign]
        self._loop = asyncio.get_running_loop()
        self._prev_task_factory = self._loop.get_task_factory()
        self._loop.set_task_factory(self._task_factory)
        logging.getLogger("discord").addHandler(self._log_handler)
        self._installed = True

    def _uninstall(self) -> None:
        global _ACTIVE
        if not self._installed:
            return
        self._installed = False
        if _ACTIVE is self:
            _ACTIVE = None
            AsyncWebhookAdapter.request = _ORIGINAL_ADAPTER_REQUEST  # type: ignore[method-assign]
        if self._loop is not None and not self._loop.is_closed():
            self._loop.set_task_factory(self._prev_task_factory)
        logging.getLogger("discord").removeHandler(self._log_handler)

    def _task_factory(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        if self._prev_task_factory is not None:
            task = self._prev_task_factory(loop, coro, **kwargs)
        else:
            task = asyncio.Task(coro, loop=loop, **kwargs)
        tracker = _CURRENT.get()
        if tracker is not None and not tracker.closed:
            tracker.add(task, coro)
        return task

    async def _configure(
        self,
        bot: discord.Client,
        *,
        world: dict[str, Any] | None = None,
        snapshot: dict[str, Any] | None = None,
    ) -> None:
        if not bot.intents.members:
            raise HarnessError(
                "dpytest needs the members intent to cache its fake members: build the test bot with "
                "intents.members = True"
            )
        if isinstance(bot, discord.AutoShardedClient):
            raise HarnessError("dpytest does not support sharded clients")
        old_state = bot._connection
        await bot._async_setup_hook()
        if snapshot is None:
            dpytest.configure(bot, **(world or {}))
        else:
            dpytest.configure(bot, guilds=0, text_channels=0, voice_channels=0, members=0)
            self._restore_world(snapshot)
        state = bot._connection
        # dpytest swaps in a new ConnectionState; carry over what the bot's constructor attached to the old one.
        state._command_tree = old_state._command_tree
        if state._command_tree is not None:
            state._command_tree._http = bot.http  # the tree caches the HTTP client it was built with
        state._translator = old_state._translator
        state.allowed_mentions = old_state.allowed_mentions
        state.application_id = old_state.application_id or state.user.id
        state.loop = old_state.loop  # set by _async_setup_hook; channel.typing() schedules its task on it
        self._patch_state(state)
        self._patch_http(bot.http)
        await bot.setup_hook()
        bot._ready.set()  # type: ignore[union-attr]  # dpytest sends no READY; wait_until_ready() would hang

    # ------------------------------------------------------------------ dpytest fixes

    def _patch_state(self, state: Any) -> None:
        """Add the fields discord.py >= 2.4 requires to dpytest's reaction payloads (dpytest#129)."""
        harness = self

        def fix(data: dict[str, Any]) -> dict[str, Any]:
            data.setdefault("type", 0)  # 0 normal, 1 burst ("super reaction")
            data.setdefault("burst", False)
            if "message_author_id" not in data:
                author_id = harness._message_author_id(state, int(data["message_id"]))
                if author_id is not None:
                    data["message_author_id"] = str(author_id)
            return data

        for name in ("parse_message_reaction_add", "parse_message_reaction_remove"):
            original = getattr(state, name)

            def patched(data: dict[str, Any], _original: Callable[[Any], None] = original) -> None:
                _original(fix(data))

            setattr(state, name, patched)
            state.parsers[name.removeprefix("parse_").upper()] = patched

    def _message_author_id(self, state: Any, message_id: int) -> int | None:
        cached = state._get_message(message_id)
        if cached is not None:
            return cached.author.id
        known = self._messages.get(message_id)
        if known is not None:
            return int(known.data["author"]["id"])
        return None

    def _patch_http(self, http: Any) -> None:
        original_request = http.request

        async def request(route: Route, *, files: Sequence[discord.File] | None = None, form: Any = None, **kw: Any):
            body = kw.get("json")
            if form:
                body = json.loads(next(p["value"] for p in form if p["name"] == "payload_json"))
            handled, result = await self._handle_route(route, body, files or [], kw.get("params"), via="http_client")
            if handled:
                return result
            return await original_request(route, files=files, form=form, **kw)

        http.request = request
        http.send_message = self._http_send_message
        http.edit_message = self._http_edit_message
        http.get_message = self._http_get_message
        http.add_reaction = self._http_add_reaction
        http.remove_reaction = self._http_remove_reaction
        http.remove_own_reaction = self._http_remove_own_reaction
        http.add_role = self._http_add_role
        http.remove_role = self._http_remove_role
        http.start_private_message = self._http_start_private_message
        # A logged-in client has an aiohttp session, which Webhook.partial(..., client=bot) insists on; every
        # webhook request is answered by the patched adapter, so this one is never used.
        http._HTTPClient__session = _NO_SESSION

    # ------------------------------------------------------------------ world

    @property
    def _state(self) -> Any:
        return self.bot._connection

    @property
    def config(self) -> dpy_runner.RunnerConfig:
        return dpy_runner.get_config()

    @property
    def guild(self) -> discord.Guild:
        return self.config.guilds[0]

    @property
    def channel(self) -> discord.TextChannel:
        return next(c for c in self.config.channels if isinstance(c, discord.TextChannel))

    @property
    def members(self) -> list[discord.Member]:
        return list(self.config.members)

    def member(self, index: int = 0) -> discord.Member:
        return self.config.members[index]

    @property
    def application_id(self) -> int:
        return int(self._state.application_id)

    async def grant(self, member: discord.Member, **permissions: bool) -> discord.Role:
        """Give ``member`` a new role carrying ``permissions`` (e.g. ``manage_guild=True``)."""
        perms = discord.Permissions(**permissions)
        role = dpy_backend.make_role(f"granted-{'-'.join(sorted(permissions))}", member.guild, permissions=perms.value)
        await dpytest.add_role(member, role)
        return role

    def attachment(self, data: bytes, filename: str, content_type: str | None = None) -> AttachmentInput:
        return AttachmentInput(data=data, filename=filename, content_type=content_type)

    def _member(self, user: discord.abc.User | int | None, guild: discord.Guild | None = None) -> discord.Member:
        guild = guild or self.guild
        if user is None:
            return self.member(0)
        if isinstance(user, int):
            found = self.config.members[user] if 0 <= user < len(self.config.members) else guild.get_member(user)
        else:
            found = guild.get_member(user.id)
        if found is None:
            raise HarnessError(f"{user!r} is not a member of {guild.name}")
        return found

    def _snapshot_world(self) -> dict[str, Any]:
        state = self._state
        config = self.config
        guilds = []
        for guild in state.guilds:
            data = dpy_factories.make_guild_dict(
                guild.name,
                guild.owner_id or 0,
                [_role_json(r) for r in guild.roles],
                id_num=guild.id,
                member_count=guild.member_count,
                members=[_member_json(m) for m in guild.members],
                channels=[],
            )
            channels = sorted(guild.channels, key=lambda c: (c.type != discord.ChannelType.category, c.position))
            guilds.append((data, [_channel_json(c) for c in channels], [_channel_json(t) for t in guild.threads]))
        user = _user_json(state.user)
        user["bot"] = True
        return {
            "user": user,
            "guilds": guilds,
            "guild_ids": [g.id for g in config.guilds],
            "channel_ids": [c.id for c in config.channels],
            "member_ids": [(m.guild.id, m.id) for m in config.members],
            "messages": dpy_backend._cur_config.messages,
        }

    def _restore_world(self, snapshot: dict[str, Any]) -> None:
        bot = self.bot
        state = dpy_backend.get_state()
        state.user = discord.ClientUser(state=state, data=snapshot["user"])
        state.stop_dispatch()
        try:
            for guild_data, channels, threads in snapshot["guilds"]:
                state.parse_guild_create(copy.deepcopy(guild_data))
                for channel in channels:
                    state.parse_channel_create(copy.deepcopy(channel))
                for thread in threads:  # active threads arrive with GUILD_CREATE on a real gateway
                    state.parse_thread_create(copy.deepcopy(thread))
        finally:
            state.start_dispatch()
        guilds = [state._get_guild(gid) for gid in snapshot["guild_ids"]]
        channels = [bot.get_channel(cid) for cid in snapshot["channel_ids"]]
        members = [state._get_guild(gid).get_member(mid) for gid, mid in snapshot["member_ids"]]
        dpy_runner._cur_config = dpy_runner.RunnerConfig(bot, guilds, channels, members)
        dpy_backend._cur_config.messages.update(snapshot["messages"])

    # ------------------------------------------------------------------ dispatch & waiting

    async def _run_tracked(self, label: str, fire: Callable[[], Any], max_wait: float | None,
                           until: Callable[[], bool] | None = None) -> _Tracker:
        tracker = _Tracker(label)
        token = _CURRENT.set(tracker)
        tracker.sync = True
        try:
            fire()
        finally:
            tracker.sync = False
            _CURRENT.reset(token)
        await tracker.wait(self.max_wait if max_wait is None else max_wait, until, self._activity)
        return tracker

    def _activity(self) -> asyncio.Future[None]:
        """A future resolved the next time the bot calls the fake Discord."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._watchers.append(future)
        return future

    def _called(self, call: CapturedCall) -> None:
        self.calls.append(call)
        watchers, self._watchers = self._watchers, []
        for future in watchers:
            if not future.done():
                future.set_result(None)

    async def until(self, condition: Callable[[], Any], *, max_wait: float | None = None, what: str = "") -> Any:
        """Wait until ``condition()`` is truthy and return it: for work the bot does on its own (a result posted
        after a restart), re-checked each time the bot calls the fake Discord (no polling), bounded by max_wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.max_wait if max_wait is None else max_wait)
        while not (result := condition()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise HarnessError(f"still waiting after {max_wait or self.max_wait}s for {what or condition}")
            await asyncio.wait([self._activity()], timeout=remaining)
        return result

    async def dispatch(
        self,
        payload: dict[str, Any],
        *,
        user: discord.abc.User | None = None,
        raise_errors: bool = True,
        expect_response: bool = True,
        max_wait: float | None = None,
        wait: bool = True,
    ) -> InteractionRecord:
        """Feed an ``INTERACTION_CREATE`` payload to the bot and wait until its handlers have finished.

        With ``wait=False`` return as soon as the bot acknowledged it (a deferral), leaving the handlers running in
        ``record.background_tasks`` (for long work: ``h.until(...)`` or ``h.drain(record)`` later).
        """
        record = InteractionRecord(payload=payload, user=user)
        record.dispatched_at = self.clock.now() if self.clock is not None else None
        record.bot = self.bot
        self.records.append(record)
        self._records_by_token[record.token] = record
        label = f"interaction {payload.get('type')} {payload.get('data', {}).get('name') or ''}".strip()
        tracker = await self._run_tracked(
            label, lambda: self._state.parse_interaction_create(copy.deepcopy(payload)), max_wait,
            None if wait else (lambda: record.callback is not None),
        )
        record.errors.extend(tracker.errors)
        record.background_tasks.extend(tracker.spawned)
        if raise_errors and record.errors:
            raise InteractionFailed(f"{label}: handler error: {record.errors[0]!r}", record) from record.errors[0]
        if expect_response and record.callback is None:
            raise InteractionFailed(f"{label}: the bot never acknowledged the interaction", record)
        return record

    async def drain(self, record: InteractionRecord, *, max_wait: float | None = None) -> None:
        """Wait for the tasks the handlers started and did not await (job pollers...); raise what they raised."""
        pending = [t for t in record.background_tasks if not t.done()]
        if pending:
            _, still = await asyncio.wait(pending, timeout=self.max_wait if max_wait is None else max_wait)
            if still:
                raise InteractionFailed(f"background tasks still running: {[t.get_name() for t in still]}", record)
        errors = [t.exception() for t in record.background_tasks if not t.cancelled() and t.exception() is not None]
        if errors:
            raise InteractionFailed(f"background task failed: {errors[0]!r}", record) from errors[0]

    # ------------------------------------------------------------------ payload building

    def _base_payload(
        self,
        kind: int,
        *,
        member: discord.Member,
        channel: discord.abc.GuildChannel | discord.Thread,
        locale: str,
        guild_locale: str,
    ) -> dict[str, Any]:
        guild = channel.guild
        interaction_id = dpy_factories.make_id()
        member_data = _member_json(member)
        member_data["permissions"] = str(channel.permissions_for(member).value)
        return {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "token": f"harness-token-{interaction_id}",
            "version": 1,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": guild_locale, "features": list(guild.features)},
            "channel_id": str(channel.id),
            "channel": _channel_json(channel),
            "member": member_data,
            "app_permissions": str(channel.permissions_for(guild.me).value),
            "locale": locale,
            "guild_locale": guild_locale,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }

    def _find_command(self, path: list[str], guild: discord.Guild) -> tuple[Any, bool]:
        tree = self._state._command_tree
        if tree is None:
            return None, False
        command = tree.get_command(path[0], guild=guild)
        is_guild = command is not None
        if command is None:
            command = tree.get_command(path[0])
        for name in path[1:]:
            command = command.get_command(name) if isinstance(command, app_commands.Group) else None
        return command, is_guild

    def _command_id(self, name: str, guild_id: int | None) -> int:
        return self._command_ids.setdefault((name, guild_id), dpy_factories.make_id())

    def _resolve_into(
        self,
        resolved: dict[str, Any],
        kind: int,
        value: Any,
        *,
        invoker: discord.Member,
        channel: discord.abc.GuildChannel | discord.Thread,
    ) -> str:
        """Add ``value`` to ``resolved`` the way Discord does; return the snowflake string for the option value."""
        guild = channel.guild
        if kind in (6, 9) and isinstance(value, int):
            value = guild.get_member(value) or self.bot.get_user(value) or guild.get_role(value) or value
        if kind == 7 and isinstance(value, int):
            value = guild.get_channel_or_thread(value) or value
        if kind == 8 and isinstance(value, int):
            value = guild.get_role(value) or value
        if isinstance(value, discord.Role):
            resolved.setdefault("roles", {})[str(value.id)] = _role_json(value)
            return str(value.id)
        if isinstance(value, discord.abc.User):
            resolved.setdefault("users", {})[str(value.id)] = _user_json(value)
            member = value if isinstance(value, discord.Member) else guild.get_member(value.id)
            if member is not None:
                data = _member_json(member, with_user=False)
                data["permissions"] = str(channel.permissions_for(member).value)
                resolved.setdefault("members", {})[str(value.id)] = data
            return str(value.id)
        if isinstance(value, (discord.abc.GuildChannel, discord.Thread)):
            data = _channel_json(value)
            data["permissions"] = str(value.permissions_for(invoker).value)
            resolved.setdefault("channels", {})[str(value.id)] = data
            return str(value.id)
        if isinstance(value, discord.File):
            value = AttachmentInput(_read_file(value), value.filename, description=value.description)
        if isinstance(value, AttachmentInput):
            attachment_id = dpy_factories.make_id()
            resolved.setdefault("attachments", {})[str(attachment_id)] = self._attachment_json(
                CapturedFile(value.filename, value.data, value.description),
                content_type=value.content_type,
                attachment_id=attachment_id,
                ephemeral=True,
            )
            return str(attachment_id)
        raise HarnessError(f"cannot send {value!r} as a Discord option of type {kind}")

    @staticmethod
    def _infer_type(value: Any) -> int:
        if isinstance(value, bool):
            return 5
        if isinstance(value, int):
            return 4
        if isinstance(value, float):
            return 10
        if isinstance(value, discord.abc.User):
            return 6
        if isinstance(value, (discord.abc.GuildChannel, discord.Thread)):
            return 7
        if isinstance(value, discord.Role):
            return 8
        if isinstance(value, (AttachmentInput, discord.File)):
            return 11
        return 3

    def _option(
        self,
        param: app_commands.Parameter | None,
        name: str,
        value: Any,
        resolved: dict[str, Any],
        *,
        invoker: discord.Member,
        channel: discord.abc.GuildChannel | discord.Thread,
        validate: bool,
    ) -> dict[str, Any]:
        kind = param.type.value if param is not None else self._infer_type(value)
        if isinstance(value, app_commands.Choice):
            value = value.value
        elif isinstance(value, enum.Enum):
            value = value.value if isinstance(value.value, (str, int, float)) else value.name
        if kind == 3:
            out: Any = str(value)
        elif kind == 4:
            if isinstance(value, bool) or not isinstance(value, int):
                raise HarnessError(f"option {name!r} is an integer option, got {value!r}")
            out = value
        elif kind == 5:
            if not isinstance(value, bool):
                raise HarnessError(f"option {name!r} is a boolean option, got {value!r}")
            out = value
        elif kind == 10:
            out = float(value)
        else:
            out = self._resolve_into(resolved, kind, value, invoker=invoker, channel=channel)
        if validate and param is not None:
            self._validate_option(param, name, value if kind in (3, 4, 10) else out)
            if kind == 7 and param.channel_types:
                target = channel.guild.get_channel_or_thread(int(out))
                if target is not None and target.type not in param.channel_types:
                    raise HarnessError(f"option {name!r} only accepts {param.channel_types}, got {target.type}")
        return {"type": kind, "name": name, "value": out}

    @staticmethod
    def _validate_option(param: app_commands.Parameter, name: str, value: Any) -> None:
        if param.choices and value not in [c.value for c in param.choices]:
            raise HarnessError(f"{value!r} is not one of the choices of {name!r}: {[c.value for c in param.choices]}")
        measured = len(value) if isinstance(value, str) else value
        if isinstance(measured, (int, float)) and not isinstance(measured, bool):
            if param.min_value is not None and measured < param.min_value:
                raise HarnessError(f"option {name!r}: {value!r} is below the minimum {param.min_value}")
            if param.max_value is not None and measured > param.max_value:
                raise HarnessError(f"option {name!r}: {value!r} is above the maximum {param.max_value}")

    def _command_payload(
        self,
        name: str,
        options: Mapping[str, Any] | None,
        *,
        kind: int,
        user: discord.abc.User | int | None,
        channel: discord.abc.GuildChannel | discord.Thread | None,
        locale: str,
        guild_locale: str,
        focused: tuple[str, Any] | None = None,
    ) -> tuple[dict[str, Any], discord.Member]:
        channel = channel or self.channel
        member = self._member(user, channel.guild)
        path = name.split()
        command, is_guild = self._find_command(path, channel.guild)
        params: dict[str, app_commands.Parameter] = {}
        if isinstance(command, app_commands.Command):
            for p in command.parameters:
                params[p.name] = p
                params[p.display_name] = p
        given = dict(options or {})
        if command is not None and not isinstance(command, app_commands.Command):
            raise HarnessError(f"/{name} is a group; give the full subcommand path (e.g. '{name} <sub>')")
        if command is not None:
            unknown = [k for k in [*given, *([focused[0]] if focused else [])] if k not in params]
            if unknown:
                known = sorted({p.display_name for p in params.values()})
                raise HarnessError(f"/{name} has no option(s) {unknown}; options: {known}")
            if kind == 2:
                supplied = {params[k].name for k in given}
                missing = [p.display_name for p in command.parameters if p.required and p.name not in supplied]
                if missing:
                    raise HarnessError(f"/{name}: required option(s) {missing} missing; Discord would not send it")
        resolved: dict[str, Any] = {}
        leaf = []
        for key, value in given.items():
            param = params.get(key)
            opt_name = param.display_name if param is not None else key
            leaf.append(
                self._option(param, opt_name, value, resolved, invoker=member, channel=channel, validate=kind == 2)
            )
        if focused is not None:
            param = params.get(focused[0])
            leaf.append(
                {
                    "type": param.type.value if param is not None else 3,
                    "name": param.display_name if param is not None else focused[0],
                    "value": focused[1],
                    "focused": True,
                }
            )
        opts: list[dict[str, Any]] = leaf
        for depth in range(len(path) - 1, 0, -1):
            opts = [{"type": 1 if depth == len(path) - 1 else 2, "name": path[depth], "options": opts}]
        guild_id = channel.guild.id if is_guild else None
        data: dict[str, Any] = {"id": str(self._command_id(path[0], guild_id)), "name": path[0], "type": 1}
        if opts:
            data["options"] = opts
        if resolved:
            data["resolved"] = resolved
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
        payload = self._base_payload(kind, member=member, channel=channel, locale=locale, guild_locale=guild_locale)
        payload["data"] = data
        return payload, member

    # ------------------------------------------------------------------ public interaction API

    async def slash(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: discord.abc.User | int | None = None,
        channel: discord.abc.GuildChannel | discord.Thread | None = None,
        locale: str = "en-US",
        guild_locale: str = "en-US",
        raise_errors: bool = True,
        expect_response: bool = True,
        max_wait: float | None = None,
        wait: bool = True,
    ) -> InteractionRecord:
        """Run ``/name`` (``name`` may be a path: ``"worker key"``) as ``user`` (default: member 0) in ``channel``."""
        payload, member = self._command_payload(
            name, options, kind=2, user=user, channel=channel, locale=locale, guild_locale=guild_locale
        )
        return await self.dispatch(
            payload, user=member, raise_errors=raise_errors, expect_response=expect_response, max_wait=max_wait,
            wait=wait,
        )

    async def autocomplete(
        self,
        name: str,
        focused: str,
        value: Any,
        *,
        options: Mapping[str, Any] | None = None,
        user: discord.abc.User | int | None = None,
        channel: discord.abc.GuildChannel | discord.Thread | None = None,
        locale: str = "en-US",
        raise_errors: bool = True,
        max_wait: float | None = None,
    ) -> list[dict[str, Any]]:
        """Type ``value`` into option ``focused`` of ``/name``; return the ``choices`` the bot answered with."""
        payload, member = self._command_payload(
            name,
            options,
            kind=4,
            user=user,
            channel=channel,
            locale=locale,
            guild_locale=locale,
            focused=(focused, value),
        )
        record = await self.dispatch(payload, user=member, raise_errors=raise_errors, max_wait=max_wait)
        return record.choices

    def _message_for(self, target: Any, custom_id: str | None = None) -> dict[str, Any]:
        """The current JSON of the message ``target`` refers to (preferring one that carries ``custom_id``)."""
        if isinstance(target, InteractionRecord):
            candidates = target.messages()
            if not candidates:
                raise HarnessError("that interaction produced no message")
            for msg in candidates:
                if custom_id is None or custom_id in msg.custom_ids:
                    return msg.data
            return candidates[0].data
        if isinstance(target, SentMessage):
            return target.data
        if isinstance(target, discord.Message):
            known = self._messages.get(target.id)
            if known is not None:
                return known.data
            stored = self._stored_channel_message(target.channel.id, target.id)
            if stored is not None:
                return stored
            data = dpy_factories.dict_from_message(target)
            data.update(
                channel_id=str(target.channel.id),
                components=[c.to_dict() for c in target.components],
                flags=target.flags.value,
            )
            return data
        if isinstance(target, dict):
            return target
        raise HarnessError(f"cannot find a message in {target!r}")

    def _stored_channel_message(self, channel_id: int, message_id: int) -> dict[str, Any] | None:
        for data in dpy_backend._cur_config.messages.get(channel_id, []):
            if int(data["id"]) == message_id:
                return data
        return None

    def _component_payload(
        self,
        target: Any,
        custom_id: str,
        *,
        user: discord.abc.User | int | None,
        kinds: tuple[int, ...],
        locale: str,
    ) -> tuple[dict[str, Any], dict[str, Any], discord.Member]:
        message = self._message_for(target, custom_id)
        component = next(
            (c for c in _walk_components(message.get("components") or []) if c.get("custom_id") == custom_id), None
        )
        if component is None:
            raise HarnessError(
                f"no component {custom_id!r} on the message; custom_ids: {_custom_ids(message.get('components') or [])}"
            )
        if component["type"] not in kinds:
            raise HarnessError(f"component {custom_id!r} has type {component['type']}, expected one of {kinds}")
        if component.get("disabled"):
            raise HarnessError(f"component {custom_id!r} is disabled; a user cannot use it")
        channel = self.bot.get_channel(int(message["channel_id"])) or self.channel
        if user is None and isinstance(target, InteractionRecord) and target.user is not None:
            user = target.user
        member = self._member(user, channel.guild)
        flags = int(message.get("flags") or 0)
        owner = (message.get("interaction_metadata") or {}).get("user", {}).get("id")
        if flags & EPHEMERAL and owner is not None and int(owner) != member.id:
            raise HarnessError("only the user who received an ephemeral message can use its components")
        payload = self._base_payload(3, member=member, channel=channel, locale=locale, guild_locale=locale)
        payload["message"] = copy.deepcopy(message)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if "id" in component:
            data["id"] = component["id"]
        payload["data"] = data
        return payload, component, member

    async def click(
        self,
        target: InteractionRecord | SentMessage | discord.Message | dict[str, Any],
        custom_id: str,
        *,
        user: discord.abc.User | int | None = None,
        locale: str = "en-US",
        raise_errors: bool = True,
        expect_response: bool = True,
        max_wait: float | None = None,
        wait: bool = True,
    ) -> InteractionRecord:
        """Click the button ``custom_id`` on a message (an interaction's response/followups, or a channel message)."""
        payload, _, member = self._component_payload(target, custom_id, user=user, kinds=(2,), locale=locale)
        return await self.dispatch(
            payload, user=member, raise_errors=raise_errors, expect_response=expect_response, max_wait=max_wait,
            wait=wait,
        )

    async def select(
        self,
        target: InteractionRecord | SentMessage | discord.Message | dict[str, Any],
        custom_id: str,
        values: Sequence[Any],
        *,
        user: discord.abc.User | int | None = None,
        locale: str = "en-US",
        raise_errors: bool = True,
        expect_response: bool = True,
        max_wait: float | None = None,
    ) -> InteractionRecord:
        """Pick ``values`` in a select menu (strings for string selects; members/roles/channels for typed ones)."""
        payload, component, member = self._component_payload(
            target, custom_id, user=user, kinds=(3, 5, 6, 7, 8), locale=locale
        )
        values = list(values)
        low, high = component.get("min_values", 1), component.get("max_values", 1)
        if not low <= len(values) <= high:
            raise HarnessError(f"select {custom_id!r} takes {low}..{high} values, got {len(values)}")
        if component["type"] == 3:
            allowed = [o["value"] for o in component.get("options", [])]
            if any(v not in allowed for v in values):
                raise HarnessError(f"select {custom_id!r}: {values} not among the options {allowed}")
            payload["data"]["values"] = [str(v) for v in values]
        else:
            resolved: dict[str, Any] = {}
            channel = self.bot.get_channel(int(payload["channel_id"]))
            kind = {5: 6, 6: 8, 7: 9, 8: 7}[component["type"]]
            payload["data"]["values"] = [
                self._resolve_into(resolved, kind, v, invoker=member, channel=channel) for v in values
            ]
            payload["data"]["resolved"] = resolved
        return await self.dispatch(
            payload, user=member, raise_errors=raise_errors, expect_response=expect_response, max_wait=max_wait
        )

    async def submit_modal(
        self,
        modal: InteractionRecord | str,
        values: Mapping[str, Any],
        *,
        user: discord.abc.User | int | None = None,
        locale: str = "en-US",
        raise_errors: bool = True,
        expect_response: bool = True,
        max_wait: float | None = None,
    ) -> InteractionRecord:
        """Fill in and submit a modal the bot showed (by the record that showed it, or by its custom_id)."""
        if isinstance(modal, InteractionRecord):
            spec = modal.modal
            source: InteractionRecord | None = modal
        else:
            if modal not in self._modals:
                raise HarnessError(f"the bot never showed a modal {modal!r}; shown: {list(self._modals)}")
            spec, source = self._modals[modal], self._modal_sources.get(modal)
        remaining = dict(values)
        components = self._fill_modal(spec.get("components") or [], remaining)
        if remaining:
            raise HarnessError(f"modal {spec['custom_id']!r} has no field(s) {list(remaining)}")
        channel = self.channel
        if source is not None:
            channel = self.bot.get_channel(int(source.payload["channel_id"])) or channel
            if user is None:
                user = source.user
        member = self._member(user, channel.guild)
        payload = self._base_payload(5, member=member, channel=channel, locale=locale, guild_locale=locale)
        if source is not None and "message" in source.payload:
            payload["message"] = copy.deepcopy(source.payload["message"])
        payload["data"] = {"custom_id": spec["custom_id"], "components": components}
        return await self.dispatch(
            payload, user=member, raise_errors=raise_errors, expect_response=expect_response, max_wait=max_wait
        )

    def _fill_modal(self, components: list[dict[str, Any]], values: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for comp in components:
            kind = comp["type"]
            if kind == 1:
                out.append({"type": 1, "components": self._fill_modal(comp.get("components") or [], values)})
            elif kind == 18:
                inner = self._fill_modal([comp["component"]], values)
                if inner:
                    out.append({"type": 18, "component": inner[0]})
            elif kind == 4:
                custom_id = comp["custom_id"]
                text = str(values.pop(custom_id, comp.get("value") or ""))
                if comp.get("required", True) and not text:
                    raise HarnessError(f"modal field {custom_id!r} is required")
                if text and not comp.get("min_length", 0) <= len(text) <= comp.get("max_length", 4000):
                    raise HarnessError(f"modal field {custom_id!r}: length {len(text)} outside the allowed range")
                out.append({"type": 4, "custom_id": custom_id, "value": text})
            elif kind in (3, 5, 6, 7, 8):
                custom_id = comp["custom_id"]
                picked = values.pop(custom_id, [])
                out.append({"type": kind, "custom_id": custom_id, "values": [str(getattr(v, "id", v)) for v in picked]})
        return out

    # ------------------------------------------------------------------ reactions & channel messages

    def _as_message(self, message: Any) -> discord.Message:
        if isinstance(message, discord.Message):
            return message
        data = copy.deepcopy(self._message_for(message))
        channel = self.bot.get_channel(int(data["channel_id"]))
        return discord.Message(state=self._state, channel=channel, data=data)  # type: ignore[arg-type]

    async def react(
        self,
        message: discord.Message | SentMessage | InteractionRecord,
        emoji: str | discord.Emoji | discord.PartialEmoji,
        user: discord.abc.User | int | None = None,
        *,
        raise_errors: bool = True,
        max_wait: float | None = None,
    ) -> None:
        """``user`` adds a reaction (unicode ``"👍"``, or custom: ``"<:name:id>"``, ``"name:id"``, an Emoji)."""
        await self._reaction(dpy_backend.add_reaction, message, emoji, user, raise_errors, max_wait)

    async def unreact(
        self,
        message: discord.Message | SentMessage | InteractionRecord,
        emoji: str | discord.Emoji | discord.PartialEmoji,
        user: discord.abc.User | int | None = None,
        *,
        raise_errors: bool = True,
        max_wait: float | None = None,
    ) -> None:
        await self._reaction(dpy_backend.remove_reaction, message, emoji, user, raise_errors, max_wait)

    async def _reaction(
        self,
        action: Callable[[discord.Message, Any, str], None],
        message: Any,
        emoji: Any,
        user: Any,
        raise_errors: bool,
        max_wait: float | None,
    ) -> None:
        msg = self._as_message(message)
        member = self._member(user, msg.guild)
        dpy_backend._cur_config.messages.setdefault(msg.channel.id, [])
        tracker = await self._run_tracked(f"reaction {emoji}", lambda: action(msg, member, _emoji_str(emoji)), max_wait)
        if raise_errors and tracker.errors:
            raise InteractionFailed(f"reaction listener error: {tracker.errors[0]!r}") from tracker.errors[0]

    async def post(
        self,
        content: str,
        *,
        channel: discord.abc.GuildChannel | discord.Thread | None = None,
        member: discord.abc.User | int | None = None,
        raise_errors: bool = True,
        max_wait: float | None = None,
    ) -> discord.Message:
        """``member`` posts ``content`` in ``channel`` (a thread works too); waits for the ``on_message`` listeners
        (like ``dpytest.message``, but bounded by ``max_wait`` and raising what the listeners raised)."""
        target = channel or self.channel
        author = self._member(member, target.guild)
        posted: list[discord.Message] = []
        tracker = await self._run_tracked(
            f"message {content[:30]!r}",
            lambda: posted.append(dpy_backend.make_message(content, author, target)),
            max_wait,
        )
        if raise_errors and tracker.errors:
            raise InteractionFailed(f"message listener error: {tracker.errors[0]!r}") from tracker.errors[0]
        return posted[0]

    def get_message(self, peek: bool = False) -> discord.Message:
        """Next message the bot sent to a channel (dpytest's sent queue)."""
        return dpytest.get_message(peek=peek)

    def verify(self) -> Any:
        return dpytest.verify()

    def sent(self, channel: discord.abc.Messageable | None = None) -> list[SentMessage]:
        """Channel messages the bot sent (oldest first), with components, flags and files."""
        out = [m for m in self._messages.values() if m.kind == "channel"]
        if channel is not None:
            out = [m for m in out if int(m.data["channel_id"]) == channel.id]  # type: ignore[attr-defined]
        return out

    def files(self, message: discord.Message | SentMessage | InteractionRecord) -> list[CapturedFile]:
        """Bytes of the files attached to a message the bot sent (or to an interaction callback)."""
        if isinstance(message, InteractionRecord):
            return message.files
        if isinstance(message, SentMessage):
            return message.files
        known = self._messages.get(message.id)
        if known is None:
            raise HarnessError(f"message {message.id} was not sent through the harness")
        return known.files

    def message(self, message_id: int) -> SentMessage:
        return self._messages[message_id]

    # ------------------------------------------------------------------ fake Discord: files & messages

    def _store_file(self, file: CapturedFile) -> str:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", file.filename) or "file"
        path = self._tmp / f"{next(self._file_counter)}-{safe}"
        path.write_bytes(file.data)
        return path.as_uri()

    def _attachment_json(
        self,
        file: CapturedFile,
        *,
        content_type: str | None = None,
        attachment_id: int | None = None,
        ephemeral: bool = False,
    ) -> dict[str, Any]:
        uri = self._store_file(file)
        data = {
            "id": str(attachment_id or dpy_factories.make_id()),
            "filename": file.filename,
            "size": len(file.data),
            "url": uri,
            "proxy_url": uri,
            "content_type": content_type or mimetypes.guess_type(file.filename)[0] or "application/octet-stream",
        }
        if file.description is not None:
            data["description"] = file.description
        if ephemeral:
            data["ephemeral"] = True
        return data

    def _attachments(
        self, body: Mapping[str, Any], files: list[CapturedFile], existing: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        if "attachments" not in body:
            return [*existing, *(self._attachment_json(f) for f in files)]
        out = []
        by_id = {int(a["id"]): a for a in existing}
        for item in body.get("attachments") or []:
            ident = int(item["id"])
            if ident in by_id:
                out.append(by_id[ident])
            elif ident < len(files):
                out.append(self._attachment_json(files[ident]))
        return out

    def _apply_body(
        self, data: dict[str, Any], body: Mapping[str, Any], files: list[CapturedFile], *, edit: bool
    ) -> None:
        if "content" in body:
            data["content"] = body["content"] or ""
        for key in ("embeds", "components"):
            if key in body:
                data[key] = copy.deepcopy(body[key]) or []
        if "flags" in body and body["flags"] is not None:
            data["flags"] = (int(data.get("flags") or 0) & EPHEMERAL) | (int(body["flags"]) & ~(EPHEMERAL | LOADING))
        if "attachments" in body or files:
            data["attachments"] = self._attachments(body, files, data.get("attachments") or [])
        if "poll" in body:
            data["poll"] = body["poll"]
        if edit:
            data["flags"] = int(data.get("flags") or 0) & ~LOADING
            data["edited_timestamp"] = _iso()

    def _webhook_message(
        self, record: InteractionRecord, body: Mapping[str, Any], files: list[CapturedFile], *, kind: str, flags: int
    ) -> SentMessage:
        bot_user = _user_json(self._state.user)
        bot_user["bot"] = True
        invoker = record.payload.get("member", {}).get("user") or record.payload.get("user")
        message_id = dpy_factories.make_id()
        interaction_type = record.payload["type"]
        data: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": record.payload["channel_id"],
            "author": bot_user,
            "content": "",
            "timestamp": _iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 20 if interaction_type == 2 and kind == "original" else 0,
            "flags": flags,
            "webhook_id": str(self.application_id),
            "application_id": str(self.application_id),
            "interaction_metadata": {
                "id": record.payload["id"],
                "type": interaction_type,
                "user": invoker,
                "authorizing_integration_owners": record.payload.get("authorizing_integration_owners", {}),
            },
        }
        self._apply_body(data, body, files, edit=False)
        data["flags"] = flags | (int(body.get("flags") or 0) & ~(EPHEMERAL | LOADING))
        message = SentMessage(id=message_id, data=data, kind=kind, files=list(files))
        self._messages[message_id] = message
        return message

    def _message_from_payload(self, record: InteractionRecord) -> SentMessage:
        """The message a component interaction came from, as a stored (editable) message."""
        raw = record.payload.get("message")
        if raw is None:
            raise _discord_error(404, 10008, "Unknown Message")
        message_id = int(raw["id"])
        known = self._messages.get(message_id)
        if known is None:
            stored = self._stored_channel_message(int(raw["channel_id"]), message_id)
            known = SentMessage(
                id=message_id, data=stored if stored is not None else copy.deepcopy(raw), kind="channel"
            )
            self._messages[message_id] = known
        return known

    # ------------------------------------------------------------------ fake Discord: routes

    async def _handle_route(
        self,
        route: Route,
        body: dict[str, Any] | None,
        files: Sequence[discord.File],
        params: dict[str, Any] | None,
        *,
        via: str,
    ) -> tuple[bool, Any]:
        path = route.path
        if path.startswith("/applications/") and path.endswith("/commands"):
            return True, self._sync_commands(route, body)
        if path == "/channels/{channel_id}/messages/{message_id}/threads" and route.method == "POST":
            return True, self._start_thread(route, body, via=via)
        if not (path.startswith("/interactions/") or path.startswith("/webhooks/{webhook_id}/{webhook_token}")):
            return False, None
        captured = CapturedCall(
            method=route.method,
            path=path,
            url=route.url,
            body=copy.deepcopy(body),
            files=[CapturedFile(f.filename, _read_file(f), f.description) for f in files],
            params=dict(params) if params else None,
            via=via,
        )
        self._called(captured)
        await self._maybe_stall(captured)
        record = self._records_by_token.get(str(route.webhook_token))
        if record is None:
            raise _discord_error(404, 10015, "Unknown Webhook")
        record.calls.append(captured)
        if path.startswith("/webhooks/") and int(route.webhook_id) != self.application_id:  # type: ignore[arg-type]
            raise _discord_error(404, 10015, "Unknown Webhook")
        if (self.clock is not None and record.dispatched_at is not None
                and self.clock.now() >= record.dispatched_at + TOKEN_LIFETIME):
            raise _discord_error(401, 50027, "Invalid Webhook Token")
        if path.endswith("/callback"):
            result = self._on_callback(record, captured)
        elif path == "/webhooks/{webhook_id}/{webhook_token}":
            result = self._on_followup(record, captured)
        else:
            target = route.url.rsplit("/", 1)[-1]
            result = self._on_message_route(record, captured, target)
        captured.response = copy.deepcopy(result)
        return True, result

    async def _maybe_stall(self, call: CapturedCall) -> None:
        if self._stall is not None and self._stall(call):
            self.stalled.append(call)
            await asyncio.get_running_loop().create_future()  # never answered: the caller is as good as dead

    def stall(self, match: Callable[[CapturedCall], bool] | None) -> None:
        """Calls for which ``match(call)`` holds are never answered (``None``: answer everything again): the
        process making them froze or was killed mid-request. They are listed in ``stalled``."""
        self._stall = match

    def _on_callback(self, record: InteractionRecord, call: CapturedCall) -> dict[str, Any]:
        if record.callback is not None:
            raise _discord_error(400, 40060, "Interaction has already been acknowledged.")
        kind = call.type
        data = call.data
        interaction_kind = record.payload["type"]
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}.get(interaction_kind, set())
        if kind not in allowed:
            raise _discord_error(
                400, 50035, f"Invalid interaction response type {kind} for interaction {interaction_kind}"
            )
        record.callback = call
        message: SentMessage | None = None
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) & EPHEMERAL
            message = self._webhook_message(
                record,
                data if kind == 4 else {},
                call.files,
                kind="original",
                flags=flags | (LOADING if kind == 5 else 0),
            )
            message.created_by = call
        elif kind in (6, 7):
            message = self._message_from_payload(record)
            if kind == 7:
                self._apply_body(message.data, data, call.files, edit=True)
                message.edits.append(call)
        elif kind == 9:
            self._modals[data["custom_id"]] = data
            self._modal_sources[data["custom_id"]] = record
        record.original = message
        response: dict[str, Any] = {
            "interaction": {
                "id": record.payload["id"],
                "type": interaction_kind,
                "response_message_id": str(message.id) if message else None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(message and message.ephemeral),
            },
            "resource": {"type": kind},
        }
        if message is not None and kind in (4, 5, 7):
            response["resource"]["message"] = copy.deepcopy(message.data)
        return response

    def _on_followup(self, record: InteractionRecord, call: CapturedCall) -> dict[str, Any] | None:
        if record.callback is None:
            raise _discord_error(404, 10015, "Unknown Webhook")  # Discord: respond or defer before following up
        body = call.data
        original = record.original
        if record.type == 5 and original is not None and original.loading and not original.deleted:
            # Discord: the first followup after a "thinking" defer replaces the loading message (same id);
            # once the bot deleted that message, a followup is a new message with its own flags.
            self._apply_body(original.data, body, call.files, edit=True)
            original.files = list(call.files)
            original.edits.append(call)
            message = original
        else:
            message = self._webhook_message(
                record, body, call.files, kind="followup", flags=int(body.get("flags") or 0) & EPHEMERAL
            )
            message.created_by = call
        record.followups.append(message)
        wait = bool(int((call.params or {}).get("wait", 0)))
        return copy.deepcopy(message.data) if wait else None

    def _on_message_route(self, record: InteractionRecord, call: CapturedCall, target: str) -> dict[str, Any] | None:
        if target == "@original":
            message = record.original
        else:
            message = self._messages.get(int(target))
            if message is not None and message is not record.original and message not in record.followups:
                message = None
        if message is None or message.deleted:
            raise _discord_error(404, 10008, "Unknown Message")
        if call.method == "GET":
            return copy.deepcopy(message.data)
        if call.method == "DELETE":
            message.deleted = True
            message.edits.append(call)
            return None
        self._apply_body(message.data, call.data, call.files, edit=True)
        if call.files:
            message.files = [*message.files, *call.files]
        message.edits.append(call)
        return copy.deepcopy(message.data)

    def _sync_commands(self, route: Route, body: Any) -> Any:
        guild_id = int(route.guild_id) if route.guild_id else None
        if route.method == "GET":
            return copy.deepcopy(self.synced_commands.get(guild_id, []))
        commands = body if isinstance(body, list) else [body]
        out = []
        for cmd in commands:
            item = dict(cmd)
            item.setdefault("id", str(self._command_id(cmd["name"], guild_id)))
            item.update(application_id=str(self.application_id), version="1")
            if guild_id is not None:
                item["guild_id"] = str(guild_id)
            out.append(item)
        if route.method == "PUT":
            self.synced_commands[guild_id] = out
            return copy.deepcopy(out)
        self.synced_commands.setdefault(guild_id, []).extend(out)
        return copy.deepcopy(out[0])

    # ------------------------------------------------------------------ fake Discord: channel messages (dpytest fix)

    async def _http_send_message(self, channel_id: int, *, params: Any) -> dict[str, Any]:
        state = self._state
        channel = self.bot.get_channel(int(channel_id)) or state._get_private_channel(int(channel_id))
        body = params.payload
        if body is None and params.multipart:
            body = json.loads(next(p["value"] for p in params.multipart if p["name"] == "payload_json"))
        body = body or {}
        files = [CapturedFile(f.filename, _read_file(f), f.description) for f in params.files or []]
        call = CapturedCall(
            method="POST",
            path="/channels/{channel_id}/messages",
            url=f"{Route.BASE}/channels/{channel_id}/messages",
            body=copy.deepcopy(body),
            files=files,
            via="http_client",
        )
        self._called(call)
        await self._maybe_stall(call)
        if channel is None:
            raise _discord_error(404, 10003, "Unknown Channel")
        recipient = channel.recipient if isinstance(channel, discord.DMChannel) else None
        if recipient is not None and recipient.id in self._closed_dms:
            raise _discord_error(403, 50007, "Cannot send messages to this user")
        guild = getattr(channel, "guild", None)
        if guild is not None:
            perms = channel.permissions_for(guild.me)
            if not (perms.send_messages or perms.administrator):
                raise _discord_error(403, 50013, "Missing Permissions")
        content = body.get("content") or ""
        data = dpy_factories.make_message_dict(
            channel,
            state.user,
            content=content,
            tts=bool(body.get("tts")),
            mentions=dpy_backend.find_user_mentions(content, guild),
            mention_roles=dpy_backend.find_role_mentions(content, guild),
            mention_channels=dpy_backend.find_channel_mentions(content, guild),
            **({"guild_id": guild.id} if guild is not None else {}),
            **({"nonce": body["nonce"]} if body.get("nonce") is not None else {}),
        )
        data["embeds"] = copy.deepcopy(body.get("embeds") or [])
        data["components"] = copy.deepcopy(body.get("components") or [])
        data["flags"] = int(body.get("flags") or 0)
        data["attachments"] = self._attachments(body, files, [])
        if body.get("message_reference"):
            data["message_reference"] = {k: str(v) if k.endswith("_id") and v is not None else v
                                         for k, v in body["message_reference"].items()}  # snowflakes as strings
            data["type"] = 19  # a reply
        state.parse_message_create(data)
        dpy_backend._cur_config.messages.setdefault(channel.id, []).append(data)
        sent = SentMessage(id=int(data["id"]), data=data, kind="channel", created_by=call, files=files)
        self._messages[sent.id] = sent
        call.response = data
        await dpy_callbacks.dispatch_event("send_message", state._get_message(sent.id))
        return copy.deepcopy(data)

    async def _http_edit_message(self, channel_id: int, message_id: int, *, params: Any) -> dict[str, Any]:
        body = params.payload
        if body is None and params.multipart:
            body = json.loads(next(p["value"] for p in params.multipart if p["name"] == "payload_json"))
        body = body or {}
        files = [CapturedFile(f.filename, _read_file(f), f.description) for f in params.files or []]
        call = CapturedCall(
            method="PATCH",
            path="/channels/{channel_id}/messages/{message_id}",
            url=f"{Route.BASE}/channels/{channel_id}/messages/{message_id}",
            body=copy.deepcopy(body),
            files=files,
            via="http_client",
        )
        self._called(call)
        message = self._messages.get(int(message_id))
        if message is None:
            stored = self._stored_channel_message(int(channel_id), int(message_id))
            if stored is None:
                raise _discord_error(404, 10008, "Unknown Message")
            message = SentMessage(id=int(message_id), data=stored, kind="channel")
            self._messages[message.id] = message
        if message.ephemeral or message.deleted:
            raise _discord_error(404, 10008, "Unknown Message")
        self._apply_body(message.data, body, files, edit=True)
        message.files = [*message.files, *files]
        message.edits.append(call)
        call.response = message.data
        return copy.deepcopy(message.data)

    async def _http_start_private_message(self, user_id: int) -> dict[str, Any]:
        """Open (or find) the DM channel with a member; as on Discord, this works even when their DMs are closed."""
        user = self._state.get_user(int(user_id)) or next(
            (m for m in self.config.members if m.id == int(user_id)), None)
        if user is None:
            raise _discord_error(404, 10013, "Unknown User")
        channel_id = self._dm_channels.setdefault(int(user_id), dpy_factories.make_id())
        data = dpy_factories.make_dm_channel_dict(user, id_num=channel_id)
        if self._state._get_private_channel(channel_id) is None:
            self._state.add_dm_channel(copy.deepcopy(data))  # where sends are looked up, whichever bot made it
        return data

    def close_dms(self, member: discord.abc.User) -> None:
        """The member allows no direct messages from the bot (sends answer 403 50007)."""
        self._closed_dms.add(member.id)

    def dms(self, member: discord.abc.User) -> list[SentMessage]:
        """What the bot sent the member in direct messages."""
        channel_id = self._dm_channels.get(member.id)
        return [m for m in self.sent() if channel_id is not None and int(m.data["channel_id"]) == channel_id]

    def delete_channel(self, channel: discord.abc.GuildChannel) -> None:
        """An admin deletes the channel: the bot's sends there answer 404 Unknown Channel."""
        dpy_backend.delete_channel(channel)

    async def _http_get_message(self, channel_id: int, message_id: int) -> dict[str, Any]:
        """dpytest only knows channel messages; Discord also returns (non-ephemeral) interaction responses."""
        known = self._messages.get(int(message_id))
        if known is not None and int(known.data["channel_id"]) == int(channel_id):
            if known.deleted or known.ephemeral:
                raise _discord_error(404, 10008, "Unknown Message")
            return copy.deepcopy(known.data)
        stored = self._stored_channel_message(int(channel_id), int(message_id))
        if stored is None:
            raise _discord_error(404, 10008, "Unknown Message")
        return copy.deepcopy(stored)

    # ------------------------------------------------------------------ fake Discord: reactions and roles

    def _capture(self, method: str, path: str, **values: Any) -> CapturedCall:
        call = CapturedCall(method=method, path=path, url=Route.BASE + path.format(**values), body=None,
                            via="http_client")
        self._called(call)
        return call

    def _reaction_target(self, channel_id: int, message_id: int) -> tuple[Any, discord.Guild | None]:
        channel = self.bot.get_channel(int(channel_id)) or self._state._get_private_channel(int(channel_id))
        if channel is None:
            raise _discord_error(404, 10003, "Unknown Channel")
        dpy_backend._cur_config.messages.setdefault(channel.id, [])
        return channel.get_partial_message(int(message_id)), getattr(channel, "guild", None)

    @staticmethod
    def _dpytest_emoji(emoji: str) -> str:
        """discord.py sends custom emoji as ``name:id``; dpytest's reaction helpers read ``id:name``."""
        if ":" in emoji:
            name, _, emoji_id = emoji.rpartition(":")
            return f"{emoji_id}:{name}"
        return emoji

    async def _http_add_reaction(self, channel_id: int, message_id: int, emoji: str) -> None:
        """``PUT .../reactions/{emoji}/@me``: needs Add Reactions and Read Message History, as on Discord."""
        self._capture("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                      channel_id=channel_id, message_id=message_id, emoji=emoji)
        message, guild = self._reaction_target(channel_id, message_id)
        if guild is not None:
            perms = message.channel.permissions_for(guild.me)
            if not ((perms.add_reactions and perms.read_message_history) or perms.administrator):
                raise _discord_error(403, 50013, "Missing Permissions")
        dpy_backend.add_reaction(message, guild.me if guild else self._state.user, self._dpytest_emoji(emoji))

    async def _http_remove_reaction(self, channel_id: int, message_id: int, emoji: str, member_id: int) -> None:
        """``DELETE .../reactions/{emoji}/{user_id}``: removing someone else's reaction needs Manage Messages."""
        self._capture("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{member_id}",
                      channel_id=channel_id, message_id=message_id, emoji=emoji, member_id=member_id)
        message, guild = self._reaction_target(channel_id, message_id)
        user: Any = None
        if guild is not None:
            perms = message.channel.permissions_for(guild.me)
            if int(member_id) != guild.me.id and not (perms.manage_messages or perms.administrator):
                raise _discord_error(403, 50013, "Missing Permissions")
            user = guild.get_member(int(member_id))
        user = user or self.bot.get_user(int(member_id))
        if user is None:
            raise _discord_error(404, 10013, "Unknown User")
        dpy_backend.remove_reaction(message, user, self._dpytest_emoji(emoji))

    async def _http_remove_own_reaction(self, channel_id: int, message_id: int, emoji: str) -> None:
        self._capture("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                      channel_id=channel_id, message_id=message_id, emoji=emoji)
        message, _ = self._reaction_target(channel_id, message_id)
        dpy_backend.remove_reaction(message, self._state.user, self._dpytest_emoji(emoji))

    def _role_edit(self, method: str, guild_id: int, user_id: int, role_id: int) -> tuple[discord.Member, discord.Role]:
        """Discord's checks for giving or taking a role: Manage Roles, and a role below the bot's highest."""
        self._capture(method, "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
                      guild_id=guild_id, user_id=user_id, role_id=role_id)
        guild = self.bot.get_guild(int(guild_id))
        if guild is None:
            raise _discord_error(404, 10004, "Unknown Guild")
        role = guild.get_role(int(role_id))
        if role is None:
            raise _discord_error(404, 10011, "Unknown Role")
        member = guild.get_member(int(user_id))
        if member is None:
            raise _discord_error(404, 10007, "Unknown Member")
        me = guild.me
        if guild.owner_id != me.id:
            perms = me.guild_permissions
            if not (perms.manage_roles or perms.administrator) or role >= me.top_role or role.managed:
                raise _discord_error(403, 50013, "Missing Permissions")
        return member, role

    async def _http_add_role(self, guild_id: int, user_id: int, role_id: int, *, reason: str | None = None) -> None:
        member, role = self._role_edit("PUT", guild_id, user_id, role_id)
        roles = [r for r in member.roles if not r.is_default() and r.id != role.id]
        dpy_backend.update_member(member, roles=[*roles, role])

    async def _http_remove_role(self, guild_id: int, user_id: int, role_id: int, *, reason: str | None = None) -> None:
        member, role = self._role_edit("DELETE", guild_id, user_id, role_id)
        dpy_backend.update_member(member, roles=[r for r in member.roles if not r.is_default() and r.id != role.id])

    def _start_thread(self, route: Route, body: dict[str, Any] | None, *, via: str) -> dict[str, Any]:
        """``POST /channels/{id}/messages/{id}/threads``: a public thread whose id is the starter message's id.

        As on Discord: the bot needs Create Public Threads, the channel must be a text channel, one thread per
        message; the thread is announced with THREAD_CREATE and begins with a THREAD_STARTER_MESSAGE stub.
        """
        body = body or {}
        call = CapturedCall(method=route.method, path=route.path, url=route.url, body=copy.deepcopy(body), via=via)
        self._called(call)
        match = re.search(r"/channels/(\d+)/messages/(\d+)/threads$", route.url)
        assert match is not None
        channel_id, message_id = int(match[1]), int(match[2])
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            raise _discord_error(404, 10003, "Unknown Channel")
        if not isinstance(channel, discord.TextChannel):
            raise _discord_error(400, 50024, "Cannot execute action on this channel type")
        perms = channel.permissions_for(channel.guild.me)
        if not (perms.create_public_threads or perms.administrator):
            raise _discord_error(403, 50013, "Missing Permissions")
        known = self._messages.get(message_id)
        if known is not None and (known.deleted or known.ephemeral or int(known.data["channel_id"]) != channel_id):
            known = None
        starter = known.data if known is not None else self._stored_channel_message(channel_id, message_id)
        if starter is None:
            raise _discord_error(404, 10008, "Unknown Message")
        if channel.guild.get_thread(message_id) is not None:
            raise _discord_error(400, 160004, "A thread has already been created for this message")
        data: dict[str, Any] = {
            "id": str(message_id),
            "type": discord.ChannelType.public_thread.value,
            "guild_id": str(channel.guild.id),
            "parent_id": str(channel_id),
            "owner_id": str(self._state.user.id),
            "name": body.get("name") or "thread",
            "last_message_id": None,
            "rate_limit_per_user": body.get("rate_limit_per_user") or 0,
            "message_count": 0,
            "member_count": 1,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration") or 1440,
                "archive_timestamp": _iso(),
                "locked": False,
            },
        }
        self._state.parse_thread_create({**copy.deepcopy(data), "newly_created": True})
        starter["flags"] = int(starter.get("flags") or 0) | 32  # HAS_THREAD
        starter["thread"] = copy.deepcopy(data)
        stub = dpy_factories.make_message_dict(
            channel.guild.get_thread(message_id), self._state.user, message_id, content="", type=21,
            guild_id=channel.guild.id,
        )
        stub["timestamp"] = _iso()
        stub["message_reference"] = {"channel_id": str(channel_id), "message_id": str(message_id),
                                     "guild_id": str(channel.guild.id)}
        dpy_backend._cur_config.messages.setdefault(message_id, []).append(stub)
        call.response = copy.deepcopy(data)
        return copy.deepcopy(data)


async def _patched_adapter_request(
    self: AsyncWebhookAdapter,
    route: Route,
    session: Any = None,
    *,
    payload: dict[str, Any] | None = None,
    multipart: list[dict[str, Any]] | None = None,
    proxy: str | None = None,
    proxy_auth: Any = None,
    files: Sequence[discord.File] | None = None,
    reason: str | None = None,
    auth_token: str | None = None,
    params: dict[str, Any] | None = None,
) -> Any:
    harness = _ACTIVE
    if harness is None:
        raise RuntimeError("webhook request outside an active DiscordHarness (tests never touch the network)")
    body = payload
    if body is None and multipart:
        body = json.loads(next(p["value"] for p in multipart if p["name"] == "payload_json"))
    handled, result = await harness._handle_route(route, body, files or [], params, via="webhook_adapter")
    if not handled:
        raise NotImplementedError(f"the test harness does not emulate webhook route {route.method} {route.path}")
    return result


async def make_bot(bot: discord.Client, **world: Any) -> DiscordHarness:
    """Configure ``bot`` under dpytest and the harness (see ``DiscordHarness.create`` for ``world`` options)."""
    return await DiscordHarness.create(bot, **world)
