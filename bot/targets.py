"""Where a result can be posted, tried in turn: the interaction's own reply (while its token lives), the channel
(a reply that mentions the member), the member's DMs, or, when they fetch it later, a private answer to them.

Each target says `Unreachable` when Discord will not take the first message there (token expired, channel gone,
access lost, DMs closed), so the courier moves on to the next one. Once a first message is posted the result
counts as delivered: a later failure (a follow-up message) is logged, never posted twice.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord

from horde_core.service import Delivery

NO_MENTIONS = discord.AllowedMentions.none()


class Unreachable(Exception):
    """Discord would not take the result here; the reason is logged if nowhere else takes it either."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """File bytes kept, not a discord.File: a file object is used up by one attempt to send it."""

    filename: str
    data: bytes
    spoiler: bool = False

    def file(self) -> discord.File:
        return discord.File(io.BytesIO(self.data), filename=self.filename, spoiler=self.spoiler)


def _unreachable(where: str, exc: discord.HTTPException) -> Unreachable:
    return Unreachable(f"{where}: {exc.status} {exc.text or exc}")


def _extras(kwargs: dict[str, Any], files: Sequence[Attachment], view: discord.ui.View | None) -> None:
    """discord.py's send takes files and a view only when there are some."""
    if files:
        kwargs["files"] = [f.file() for f in files]
    if view is not None:
        kwargs["view"] = view


def _thread_parent(bot: Any, d: Delivery) -> discord.abc.GuildChannel | None:
    channel = bot.get_channel(int(d.channel)) if d.channel else None
    return channel if isinstance(channel, discord.TextChannel) else None


class Target:
    """A place to post. `first` posts (or edits in) the result's first message and says Unreachable if it cannot."""

    name = "target"
    can_thread = False  # chat may start a thread on the first message
    mentions = False  # the first message names the member (who otherwise might not see it)

    def __init__(self, bot: Any, delivery: Delivery) -> None:
        self.bot, self.d = bot, delivery
        self.posted = False

    async def first(self, *, content: str | None = None, embed: discord.Embed | None = None,
                    files: Sequence[Attachment] = (), view: discord.ui.View | None = None) -> discord.Message | None:
        raise NotImplementedError

    async def more(self, content: str) -> None:
        """Another message after the first (a long answer)."""
        raise NotImplementedError

    async def edit(self, message: discord.Message | None, **fields: Any) -> None:
        if message is not None:
            await message.edit(**fields)

    async def refuse(self, text: str) -> None:
        """A failure only the member should read (nothing the channel needs to see)."""
        raise Unreachable(f"{self.name}: not private")

    async def start_thread(self, message: discord.Message, name: str) -> discord.Thread:
        """A public thread on the first message (where `can_thread`), made through the channel: a message edited
        through a webhook does not know its guild."""
        channel = _thread_parent(self.bot, self.d)
        if channel is None or not isinstance(channel, discord.TextChannel):
            raise ValueError("not in a text channel")
        return await channel.create_thread(name=name, message=discord.Object(message.id), auto_archive_duration=1440)


class InteractionReply(Target):
    """The reply to the member's command, edited through the interaction's webhook while its token works."""

    name = "the interaction reply"

    def __init__(self, bot: Any, delivery: Delivery) -> None:
        super().__init__(bot, delivery)
        self.webhook = discord.Webhook.partial(int(delivery.application), delivery.token, client=bot)
        channel = _thread_parent(bot, delivery)
        me = channel.guild.me if channel is not None else None
        perms = channel.permissions_for(me) if channel is not None and me is not None else None
        self.can_thread = bool(perms and perms.create_public_threads and perms.send_messages_in_threads)

    async def first(self, *, content: str | None = None, embed: discord.Embed | None = None,
                    files: Sequence[Attachment] = (), view: discord.ui.View | None = None) -> discord.Message | None:
        try:
            message = await self.webhook.edit_message(int(self.d.message), content=content, embed=embed,
                                                      attachments=[f.file() for f in files], view=view,
                                                      allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            raise _unreachable(self.name, exc) from exc
        self.posted = True
        return message

    async def more(self, content: str) -> None:
        await self.webhook.send(content, allowed_mentions=NO_MENTIONS, ephemeral=self.d.private)

    async def refuse(self, text: str) -> None:
        try:
            if self.d.private:
                await self.webhook.edit_message(int(self.d.message), content=text, embed=None, view=None,
                                                attachments=[])
            else:  # the public "thinking…" goes; the member alone reads why
                await self.webhook.delete_message(int(self.d.message))
                await self.webhook.send(text, ephemeral=True)
        except discord.HTTPException as exc:
            raise _unreachable(self.name, exc) from exc
        self.posted = True

    async def notice(self, text: str) -> None:
        """A line above the progress (the embed and its buttons stay)."""
        await self.webhook.edit_message(int(self.d.message), content=text, allowed_mentions=NO_MENTIONS)

    async def show(self, embed: discord.Embed | None, view: discord.ui.View | None) -> None:
        await self.webhook.edit_message(int(self.d.message), embed=embed, view=view)


class ChannelPost(Target):
    """A new message in the channel (or the thread): a reply to the command's message that mentions the member."""

    name = "the channel"
    mentions = True

    def __init__(self, bot: Any, delivery: Delivery) -> None:
        super().__init__(bot, delivery)
        where = int(delivery.thread or delivery.channel)
        guild_id = int(delivery.community.rsplit(":", 1)[-1]) if delivery.community else None
        self.channel = bot.get_channel(where) or bot.get_partial_messageable(where, guild_id=guild_id)
        parent = _thread_parent(bot, delivery) if not delivery.thread else None
        me = parent.guild.me if parent is not None else None
        perms = parent.permissions_for(me) if parent is not None and me is not None else None
        self.can_thread = bool(perms and perms.create_public_threads and perms.send_messages_in_threads)
        self.mentions = bool(delivery.context.get("mention", True))

    async def first(self, *, content: str | None = None, embed: discord.Embed | None = None,
                    files: Sequence[Attachment] = (), view: discord.ui.View | None = None) -> discord.Message | None:
        member = int(self.d.recipient)
        if self.mentions:
            content = f"<@{member}> {content}" if content else f"<@{member}>"
        reference = None
        if self.d.message and self.mentions:  # a chat thread's next answer is a plain message, as before
            reference = discord.MessageReference(message_id=int(self.d.message), channel_id=self.channel.id,
                                                 fail_if_not_exists=False)
        kwargs: dict[str, Any] = {"content": content, "embed": embed, "reference": reference, "mention_author": False,
                                  "allowed_mentions": discord.AllowedMentions(
                                      everyone=False, roles=False, users=[discord.Object(member)])}
        _extras(kwargs, files, view)
        try:
            message = await self.channel.send(**kwargs)
        except (discord.NotFound, discord.Forbidden) as exc:
            raise _unreachable(self.name, exc) from exc
        self.posted = True
        return message

    async def more(self, content: str) -> None:
        await self.channel.send(content, allowed_mentions=NO_MENTIONS)


class DirectMessage(Target):
    """The member's DMs, when the channel is gone or the bot lost access to it."""

    name = "a direct message"

    async def _channel(self) -> discord.DMChannel:
        user = self.bot.get_user(int(self.d.recipient)) or await self.bot.fetch_user(int(self.d.recipient))
        return await user.create_dm()

    async def first(self, *, content: str | None = None, embed: discord.Embed | None = None,
                    files: Sequence[Attachment] = (), view: discord.ui.View | None = None) -> discord.Message | None:
        where = f"<#{self.d.channel}>" if self.d.channel else "the server"
        intro = f"Here is what you asked for in {where}; I could not post it there."
        kwargs: dict[str, Any] = {"content": f"{intro}\n{content}" if content else intro, "embed": embed,
                                  "allowed_mentions": NO_MENTIONS}
        _extras(kwargs, files, view)
        try:
            self.dm = await self._channel()
            message = await self.dm.send(**kwargs)
        except (discord.NotFound, discord.Forbidden) as exc:
            raise _unreachable(self.name, exc) from exc
        self.posted = True
        return message

    async def more(self, content: str) -> None:
        await self.dm.send(content, allowed_mentions=NO_MENTIONS)

    async def refuse(self, text: str) -> None:
        await self.first(content=text)


class PrivateAnswer(Target):
    """A member fetching an undelivered result (from /account): answered only to them."""

    name = "a private answer"

    def __init__(self, bot: Any, delivery: Delivery, interaction: discord.Interaction) -> None:
        super().__init__(bot, delivery)
        self.interaction = interaction

    async def first(self, *, content: str | None = None, embed: discord.Embed | None = None,
                    files: Sequence[Attachment] = (), view: discord.ui.View | None = None) -> discord.Message | None:
        kwargs: dict[str, Any] = {"content": content, "ephemeral": True, "allowed_mentions": NO_MENTIONS}
        if embed is not None:
            kwargs["embed"] = embed
        _extras(kwargs, files, view)
        try:
            await self.interaction.response.send_message(**kwargs)
        except discord.HTTPException as exc:
            raise _unreachable(self.name, exc) from exc
        self.posted = True
        return None

    async def more(self, content: str) -> None:
        await self.interaction.followup.send(content, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def refuse(self, text: str) -> None:
        await self.first(content=text)
