"""Automatic roles: the conditions admins bind roles to, and whether the bot may hand a role out.

Stored in the `role_rules` guild setting as [{"role": id, "condition": name, "value": n}]. A role with
several rules is given when ALL of them hold, and taken away as soon as one stops holding. Shared by the
settings cog (which edits the rules) and the roles cog (which applies them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import discord

from horde_core.service import MemberFacts

from .settings import SettingError

MAX_RULES = 25


@dataclass(frozen=True, slots=True)
class Condition:
    name: str
    label: str  # "{value}" is replaced by the rule's value
    maximum: int = 0  # 0: the condition takes no value
    note: str = ""  # shown in `/settings roles list`

    @property
    def takes_value(self) -> bool:
        return self.maximum > 0


CONDITIONS: dict[str, Condition] = {c.name: c for c in (
    Condition("kudos", "has at least {value} kudos", 10**12),
    Condition("active_worker", "owns a worker that is online"),
    Condition("trusted", "is a trusted horde user"),
    Condition("images", "generated at least {value} images", 10**9),
    Condition("ratings", "rated at least {value} images", 10**9),
    Condition("account_age", "has had a horde account for more than {value} days", 36_500),
)}


@dataclass(frozen=True, slots=True)
class RoleRule:
    role_id: int
    condition: str
    value: int = 0

    def stored(self) -> dict[str, Any]:
        return {"role": self.role_id, "condition": self.condition, "value": self.value}

    def describe(self) -> str:
        cond = CONDITIONS[self.condition]
        text = cond.label.format(value=f"{self.value:,}")
        return f"{text} ({cond.note})" if cond.note else text


def parse_rule(role_id: int, condition: str, value: int | None) -> RoleRule:
    """What an admin typed, checked: a known condition, and a value where (and only where) one is needed."""
    cond = CONDITIONS.get(condition)
    if cond is None:
        raise SettingError("There is no condition `{condition}`. Conditions: {names}.", condition=condition,
                           names=", ".join(CONDITIONS))
    if not cond.takes_value:
        return RoleRule(role_id, condition, 0)
    if value is None:
        raise SettingError("`{condition}` needs a value: {label}.", condition=condition,
                           label=cond.label.format(value="<value>"))
    if not 1 <= value <= cond.maximum:
        raise SettingError("The value of `{condition}` is 1 to {most}.", condition=condition, most=f"{cond.maximum:,}")
    return RoleRule(role_id, condition, value)


def rules(stored: Iterable[Mapping[str, Any]]) -> list[RoleRule]:
    """The guild's rules; rules naming a condition this version does not know are skipped, not fatal."""
    return [RoleRule(int(r["role"]), str(r["condition"]), int(r.get("value") or 0))
            for r in stored if str(r.get("condition")) in CONDITIONS]


def with_rule(current: list[RoleRule], rule: RoleRule) -> list[dict[str, Any]]:
    """The rules with `rule` added; a rule for the same role and condition is replaced (a new value)."""
    kept = [r for r in current if (r.role_id, r.condition) != (rule.role_id, rule.condition)]
    if len(kept) >= MAX_RULES:
        raise SettingError("A server can have at most {most} role rules; remove one first.", most=MAX_RULES)
    return [r.stored() for r in [*kept, rule]]


def without_rules(current: list[RoleRule], role_id: int, condition: str | None) -> tuple[list[dict[str, Any]], int]:
    """The rules without those of a role (only `condition`'s, when given), and how many went."""
    kept = [r for r in current if not (r.role_id == role_id and condition in (None, r.condition))]
    return [r.stored() for r in kept], len(current) - len(kept)


def holds(rule: RoleRule, facts: MemberFacts | None) -> bool:
    if facts is None:
        return False
    if rule.condition == "kudos":
        return facts.kudos >= rule.value
    if rule.condition == "active_worker":
        return facts.active_worker
    if rule.condition == "trusted":
        return facts.trusted
    if rule.condition == "images":
        return facts.images_generated >= rule.value
    if rule.condition == "account_age":
        return facts.account_age_days > rule.value
    if rule.condition == "ratings":
        return facts.images_rated >= rule.value
    return False


def by_role(all_rules: Iterable[RoleRule]) -> dict[int, list[RoleRule]]:
    grouped: dict[int, list[RoleRule]] = defaultdict(list)
    for rule in all_rules:
        grouped[rule.role_id].append(rule)
    return dict(grouped)


def deserves(role_rules: list[RoleRule], facts: MemberFacts | None) -> bool:
    """A role with several rules needs every one of them."""
    return all(holds(rule, facts) for rule in role_rules)


def can_manage_roles(guild: discord.Guild) -> bool:
    perms = guild.me.guild_permissions
    return perms.manage_roles or perms.administrator


def role_problem(guild: discord.Guild, role: discord.Role) -> str | None:
    """Why the bot cannot give or take this role (Discord would refuse), or None when it can."""
    if role.is_default():
        return "@everyone can't be given or taken."
    if role.managed:
        return f"{role.mention} belongs to an integration (a bot, boosts or a subscription); Discord manages it."
    if guild.owner_id != guild.me.id and role >= guild.me.top_role:
        return (f"{role.mention} is not below my highest role ({guild.me.top_role.mention}): move my role above "
                "it in Server Settings → Roles.")
    return None


def problems(guild: discord.Guild, all_rules: Iterable[RoleRule]) -> list[str]:
    """Everything that keeps the rules of a guild from being applied, one line each."""
    role_ids = list(by_role(all_rules))
    if not role_ids:
        return []
    found = []
    if not can_manage_roles(guild):
        found.append("I need the **Manage Roles** permission to give and take automatic roles.")
    for role_id in role_ids:
        role = guild.get_role(role_id)
        if role is None:
            found.append(f"A role rule names a deleted role ({role_id}); it is ignored and dropped at the next sweep.")
            continue
        problem = role_problem(guild, role)
        if problem:
            found.append(problem)
    return found
