"""Makes members' roles match the guild's role rules, both ways, without ever crashing on Discord's refusals.

One reconcile at a time (a lock): facts are read and roles edited under it, so an event and the sweep
can't interleave and leave a role that belongs to older facts. Role edits are paced (`pace` seconds
after each one; tests set 0) on top of discord.py's own rate-limit handling, so a sweep over a large
guild trickles instead of bursting. A role Discord refuses is remembered and shown in /settings show.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import discord

from bot import role_rules
from bot.identities import identities
from horde_core.service import MemberFacts

log = logging.getLogger(__name__)

FACTS_BATCH = 200  # users per member_facts query


class RoleReconciler:
    def __init__(self, bot: Any, *, pace: float = 0.5) -> None:
        self.bot = bot
        self.service = bot.service
        self.pace = pace
        self.refusals: dict[int, dict[int, str]] = {}  # guild id -> role id -> what Discord refused
        self._lock = asyncio.Lock()

    async def rules(self, guild: discord.Guild) -> list[role_rules.RoleRule]:
        return role_rules.rules((await self.bot.guild_settings(guild.id))["role_rules"])

    def usable_roles(self, guild: discord.Guild, grouped: dict[int, list[role_rules.RoleRule]]) -> dict[int, Any]:
        """The bound roles the bot may actually give and take (the others are warnings, not attempts)."""
        if not role_rules.can_manage_roles(guild):
            return {}
        usable = {}
        for role_id in grouped:
            role = guild.get_role(role_id)
            if role is not None and role_rules.role_problem(guild, role) is None:
                usable[role_id] = role
        return usable

    async def _facts(self, user_ids: Iterable[int]) -> dict[int, MemberFacts]:
        ordered = sorted(set(user_ids))
        found: dict[int, MemberFacts] = {}
        for start in range(0, len(ordered), FACTS_BATCH):
            found.update(await self.service.member_facts(ordered[start:start + FACTS_BATCH]))
        return found

    async def reconcile(self, guild: discord.Guild, members: Iterable[discord.Member]) -> int:
        """Give and take the guild's automatic roles for these members; returns the number of role edits."""
        grouped = role_rules.by_role(await self.rules(guild))
        usable = self.usable_roles(guild, grouped)
        if not usable:
            return 0
        humans = [m for m in members if not m.bot]
        edits = 0
        async with self._lock:
            core = await identities(self.bot).resolve(humans)
            facts = await self._facts(core.values())
            for member in humans:
                known = facts.get(core[member.id]) if member.id in core else None
                want = {rid for rid in usable if role_rules.deserves(grouped[rid], known)}
                have = {r.id for r in member.roles if r.id in usable}
                for role_id in sorted(want - have):
                    edits += await self._edit(member, usable[role_id], give=True)
                for role_id in sorted(have - want):
                    edits += await self._edit(member, usable[role_id], give=False)
        return edits

    async def _edit(self, member: discord.Member, role: discord.Role, *, give: bool) -> int:
        reason = "hordebot automatic role: " + ("its conditions hold" if give else "its conditions no longer hold")
        refusals = self.refusals.setdefault(member.guild.id, {})
        try:
            if give:
                await member.add_roles(role, reason=reason)
            else:
                await member.remove_roles(role, reason=reason)
        except discord.HTTPException as exc:
            log.warning("could not %s role %s in guild %s: %s", "give" if give else "take", role.id,
                        member.guild.id, exc)
            verb = "give" if give else "take"
            refusals[role.id] = (f"Discord refused to {verb} {role.mention} ({exc.text or exc.status}): check my "
                                 "Manage Roles permission and that my role is above it.")
            return 0
        refusals.pop(role.id, None)
        if self.pace:
            await asyncio.sleep(self.pace)
        return 1

    def recent_refusals(self, guild: discord.Guild) -> list[str]:
        return list(self.refusals.get(guild.id, {}).values())
