"""Automatic roles: given and taken as members' kudos, workers, trust, images and age change.

Two ways in. Events from the core ("kudos_moved", "job_finished") queue the users involved, and one
background drain reconciles them, coalescing bursts (a hundred gifts to one member are one check).
A periodic sweep covers what no event announces (a worker going offline, an account ageing, a change
made while the bot was down). Rule changes (`role_rules_changed`, dispatched by /settings roles) and
new members are reconciled at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord.ext import commands, tasks

from bot import role_rules
from bot import settings as guild_settings
from bot.identities import identities
from horde_core.service import HordeError

from ._reconciler import RoleReconciler

log = logging.getLogger(__name__)
SWEEP_MINUTES = 10.0


class RolesCog(commands.Cog, name="Roles"):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.service = bot.service
        self.reconciler = RoleReconciler(bot)
        self._users: set[int] = set()
        self._requests: set[str] = set()
        self._drainer: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self.service.events.subscribe("kudos_moved", self._on_kudos_moved)
        self.service.events.subscribe("job_finished", self._on_job_finished)
        self.periodic.start()

    async def cog_unload(self) -> None:
        self.service.events.unsubscribe("kudos_moved", self._on_kudos_moved)
        self.service.events.unsubscribe("job_finished", self._on_job_finished)
        self.periodic.cancel()
        if self._drainer is not None:
            self._drainer.cancel()

    @property
    def pace(self) -> float:
        """Seconds between two role edits (tests set 0)."""
        return self.reconciler.pace

    @pace.setter
    def pace(self, seconds: float) -> None:
        self.reconciler.pace = seconds

    # ------------------------------------------------------------------ events from the core

    def _on_kudos_moved(self, payload: dict[str, Any]) -> None:
        self._users.update(int(u) for u in (payload.get("from"), payload.get("to")) if u is not None)
        self._kick()

    def _on_job_finished(self, payload: dict[str, Any]) -> None:
        if payload.get("request_id"):
            self._requests.add(str(payload["request_id"]))
            self._kick()

    def _kick(self) -> None:
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.get_running_loop().create_task(self._drain(), name="roles-drain")

    async def _drain(self) -> None:
        while self._users or self._requests:
            users, self._users = self._users, set()
            requests, self._requests = self._requests, set()
            for request_id in requests:  # the requester's image count changed
                try:
                    users.add(int((await self.service.request_outline(request_id))["user_id"]))
                except HordeError:
                    continue
            try:
                await self.reconcile_users(users)
            except Exception:
                log.exception("reconciling roles after an event failed")

    async def settle(self) -> None:
        """Wait until every queued event has been reconciled (tests, and an orderly shutdown)."""
        while self._drainer is not None and not self._drainer.done():
            await asyncio.wait([self._drainer])

    async def reconcile_users(self, core_ids: set[int]) -> int:
        """Members we know of these core users, in every guild they share with the bot."""
        ids = identities(self.bot)
        discord_ids = set((await ids.discord_ids(core_ids)).values())
        edits = 0
        for guild in self.bot.guilds:
            members = [m for d in discord_ids if (m := guild.get_member(d)) is not None]
            if members:
                edits += await self.reconciler.reconcile(guild, members)
        return edits

    # ------------------------------------------------------------------ the sweep

    async def sweep(self) -> int:
        """Every member of every guild that has role rules; returns the number of role edits."""
        edits = 0
        for guild in list(self.bot.guilds):
            try:
                edits += await self.sweep_guild(guild)
            except Exception:
                log.exception("role sweep of guild %s failed", guild.id)
        return edits

    async def sweep_guild(self, guild: discord.Guild) -> int:
        rules = await self.reconciler.rules(guild)
        if not rules:
            return 0
        live = [r for r in rules if guild.get_role(r.role_id) is not None]
        if len(live) != len(rules):  # role ids are never reused: a deleted role's rules are dead
            await guild_settings.store(self.service, guild.id, "role_rules", [r.stored() for r in live],
                                       "hordebot:roles")
        return await self.reconciler.reconcile(guild, guild.members)

    @tasks.loop(minutes=SWEEP_MINUTES)
    async def periodic(self) -> None:
        try:
            await self.sweep()
        except Exception:
            log.exception("role sweep failed")

    @periodic.before_loop
    async def _before_periodic(self) -> None:
        await self.bot.wait_until_ready()

    # ------------------------------------------------------------------ Discord events

    @commands.Cog.listener()
    async def on_role_rules_changed(self, guild: discord.Guild) -> None:
        await self.sweep_guild(guild)

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        await self.reconciler.reconcile(member.guild, [member])

    @commands.Cog.listener()
    async def on_guild_role_delete(self, role: discord.Role) -> None:
        current = await self.reconciler.rules(role.guild)
        stored, removed = role_rules.without_rules(current, role.id, None)
        if removed:
            await guild_settings.store(self.service, role.guild.id, "role_rules", stored, "hordebot:roles")

    async def settings_warnings(self, guild: discord.Guild) -> list[str]:
        """Seen in /settings show: what keeps the rules from being applied, and what Discord refused lately."""
        rules = await self.reconciler.rules(guild)
        if not rules:
            return []
        found = role_rules.problems(guild, rules)
        return found + [r for r in self.reconciler.recent_refusals(guild) if r not in found]
