"""Emoji gifts: a reaction with a mapped emoji moves kudos from the reactor to the message's author.

The core owns the rules (caps, cooldown, funds, one gift per message, sender and emoji, ever); this
module decides who the recipient is, and tells people what happened:

* on a generation result (a message of this bot) the recipient is the member who asked for the images:
  the Delete button carries their Discord id (`gen:delete:<id>`), Reroll/Retry/Cancel the request id;
* a refused gift loses its reaction (when the bot may remove it) and the sender learns why by DM;
* a reaction given again after being removed is the same gift: nothing moves, nobody is bothered.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from typing import Any

import discord

from bot.identities import identities
from bot.kudos_emoji import GiftEmoji
from horde_core.service import GiftError, GiftRules, HordeError

log = logging.getLogger(__name__)

ACK_EMOJI = "🎁"
_REQUESTER = re.compile(r"^gen:delete:(?P<user>\d+)$")
_REQUEST = re.compile(r"^gen:(?:reroll|retry|cancel):(?P<rid>[0-9a-f-]{36})")


class Refused(Exception):
    """A gift that never reached the core (no member to receive it); the message is for the sender."""


@dataclass(slots=True)
class Recipient:
    member: discord.Member | None  # None: a requester we know only as a core user
    core_id: int | None = None


def jump_url(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def community(guild_id: int) -> str:
    return f"discord:{guild_id}"


def rules_for(settings: Any) -> GiftRules:
    return GiftRules(daily_cap=int(settings["kudos_daily_cap"]),
                     recipient_daily_cap=int(settings["kudos_recipient_cap"]),
                     cooldown=float(settings["kudos_cooldown"]))


def _custom_ids(message: discord.Message) -> list[str]:
    found = []
    for row in message.components:
        for child in getattr(row, "children", [row]):
            custom_id = getattr(child, "custom_id", None)
            if custom_id:
                found.append(custom_id)
    return found


async def _member(guild: discord.Guild, user_id: int) -> discord.Member | None:
    found = guild.get_member(user_id)
    if found is not None:
        return found
    try:
        return await guild.fetch_member(user_id)
    except discord.HTTPException:
        return None


class GiftDesk:
    """Turns one reaction into one gift (or one refusal)."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service

    async def recipient(self, guild: discord.Guild, channel: Any, payload: discord.RawReactionActionEvent) -> Recipient:
        """Who a reaction gifts; raises Refused for bots, webhooks and members who left."""
        author_id = payload.message_author_id
        own_id = self.bot.user.id
        message: discord.Message | None = None
        if author_id is None or author_id == own_id:  # need the message itself: its author, its buttons
            message = await channel.fetch_message(payload.message_id)
            author_id = message.author.id
        if author_id == own_id and message is not None:
            return await self._requester(guild, message)
        member = await _member(guild, author_id)
        if member is None:
            raise Refused("Only members of this server can receive kudos.")
        if member.bot:
            raise Refused("Bots can't receive kudos.")
        return Recipient(member)

    async def _requester(self, guild: discord.Guild, message: discord.Message) -> Recipient:
        """A generation result gifts whoever asked for it; any other message of this bot gifts nobody."""
        ids = _custom_ids(message)
        for custom_id in ids:
            if match := _REQUESTER.match(custom_id):
                member = await _member(guild, int(match["user"]))
                if member is None:
                    raise Refused("The member who asked for these images has left this server.")
                return Recipient(member)
        for custom_id in ids:
            if match := _REQUEST.match(custom_id):
                with contextlib.suppress(HordeError):
                    core_id = int((await self.service.request_outline(match["rid"]))["user_id"])
                    known = (await identities(self.bot).discord_ids([core_id])).get(core_id)
                    return Recipient(guild.get_member(known) if known else None, core_id)
        raise Refused("Bots can't receive kudos.")

    async def give(self, guild: discord.Guild, channel: Any, payload: discord.RawReactionActionEvent,
                   sender: discord.Member, entry: GiftEmoji, settings: Any) -> None:
        url = jump_url(guild.id, payload.channel_id, payload.message_id)
        try:
            recipient = await self.recipient(guild, channel, payload)
        except Refused as refused:
            await self.refuse(channel, payload, sender, entry, url, str(refused))
            return
        except discord.HTTPException:  # the message is gone, or the bot can't read it
            log.info("no message %s to gift on", payload.message_id)
            return
        ids = identities(self.bot)
        sender_row = await ids.user(sender)
        if recipient.core_id is not None:
            recipient_id = recipient.core_id
        else:
            assert recipient.member is not None
            recipient_id = (await ids.user(recipient.member)).id
        try:
            await self.service.gift_kudos(community=community(guild.id), sender=sender_row.id,
                                          recipient=recipient_id, amount=entry.amount, message_ref=url,
                                          emoji=entry.emoji, rules=rules_for(settings))
        except GiftError as refused:
            if refused.rc == "GiftDuplicate":  # the same gift again (reaction removed and re-added)
                return
            await self.refuse(channel, payload, sender, entry, url, refused.message)
            return
        await self.acknowledge(settings["kudos_ack"], channel, payload, sender, recipient.member, entry, url)

    async def refuse(self, channel: Any, payload: discord.RawReactionActionEvent, sender: discord.Member,
                     entry: GiftEmoji, url: str, reason: str) -> None:
        """Take the reaction back (it would claim a gift that wasn't made) and tell the sender privately."""
        removed = False
        perms = channel.permissions_for(channel.guild.me)
        if perms.manage_messages or perms.administrator:
            try:
                await channel.get_partial_message(payload.message_id).remove_reaction(payload.emoji, sender)
                removed = True
            except discord.HTTPException:
                log.info("could not remove a refused gift's reaction in %s", channel.id)
        text = f"Your {entry.emoji} on {url} gave no kudos: {reason}"
        if not removed:
            text += "\n(I couldn't remove your reaction: I need the Manage Messages permission there.)"
        await _dm(sender, text)

    async def acknowledge(self, mode: str, channel: Any, payload: discord.RawReactionActionEvent,
                          sender: discord.Member, recipient: discord.Member | None, entry: GiftEmoji,
                          url: str) -> None:
        if mode == "reaction":
            try:
                await channel.get_partial_message(payload.message_id).add_reaction(ACK_EMOJI)
            except discord.HTTPException:
                log.info("could not acknowledge a gift with a reaction in %s", channel.id)
        elif mode == "dm" and recipient is not None:
            title = f"**{entry.title}** — " if entry.title else ""
            text = f"{ACK_EMOJI} {title}{sender.display_name} gifted you **{entry.amount:,}** kudos for {url}"
            await _dm(recipient, text + (f"\n{entry.message}" if entry.message else ""))


async def _dm(member: discord.abc.User, text: str) -> None:
    """Members may close their DMs; that is their choice, never an error."""
    try:
        await member.send(text, allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException:
        log.info("could not DM %s", member.id)
