"""/settings roles add|remove|list: roles the bot gives and takes by itself.

After a change the bot dispatches `role_rules_changed(guild)`; whichever feature applies the rules
listens for it (the settings cog does not know who that is).
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot import role_rules
from bot import settings as guild_settings
from bot.errors import UserFacingError
from bot.i18n import tr
from bot.members import identity

CONDITION_CHOICES = [app_commands.Choice(name=f"{c.name}: {c.label.format(value='N')}"[:100], value=c.name)
                     for c in role_rules.CONDITIONS.values()]


class RoleRuleSettings:
    """Mixed into the settings cog, so these commands share its Manage Server check."""

    bot: Any

    roles = app_commands.Group(name="roles", description="Roles given and taken automatically")

    async def _store_rules(self, interaction: discord.Interaction, stored: list[dict[str, Any]]) -> None:
        await guild_settings.store(self.bot.service, interaction.guild_id or 0, "role_rules", stored,
                                   identity(interaction.user))

    @roles.command(name="add", description="Give a role automatically while a condition holds")
    @app_commands.describe(role="The role", condition="When members get it",
                           value="The number the condition needs (kudos, images, days)")
    @app_commands.choices(condition=CONDITION_CHOICES)
    async def roles_add(self, interaction: discord.Interaction, role: discord.Role, condition: str,
                        value: app_commands.Range[int, 1] | None = None) -> None:
        assert interaction.guild is not None
        current = await self.bot.guild_settings(interaction.guild_id)
        try:
            rule = role_rules.parse_rule(role.id, condition, value)
            await self._store_rules(interaction, role_rules.with_rule(role_rules.rules(current["role_rules"]), rule))
        except guild_settings.SettingError as exc:
            raise UserFacingError(exc.template, **exc.params) from exc
        text = tr(interaction, "{role} now goes to members who {rule}, and is taken away when they don't.",
                  role=role.mention, rule=rule.describe())
        warnings = role_rules.problems(interaction.guild, [rule])
        if warnings:
            text += "\n⚠️ " + "\n⚠️ ".join(warnings)
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
        self.bot.dispatch("role_rules_changed", interaction.guild)

    @roles.command(name="remove", description="Stop managing a role (members keep it)")
    @app_commands.describe(role="The role", condition="Only this condition (default: all of the role's rules)")
    @app_commands.choices(condition=CONDITION_CHOICES)
    async def roles_remove(self, interaction: discord.Interaction, role: discord.Role,
                           condition: str | None = None) -> None:
        assert interaction.guild is not None
        current = await self.bot.guild_settings(interaction.guild_id)
        stored, removed = role_rules.without_rules(role_rules.rules(current["role_rules"]), role.id, condition)
        if not removed:
            raise UserFacingError("{role} has no such rule; `/settings roles list` shows them.", role=role.mention)
        await self._store_rules(interaction, stored)
        await interaction.response.send_message(
            tr(interaction, "Removed {count} rule of {role}." if removed == 1 else "Removed {count} rules of {role}.",
               count=removed, role=role.mention), ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none())
        self.bot.dispatch("role_rules_changed", interaction.guild)

    @roles.command(name="list", description="The automatic roles and their conditions")
    async def roles_list(self, interaction: discord.Interaction) -> None:
        assert interaction.guild is not None
        current = role_rules.rules((await self.bot.guild_settings(interaction.guild_id))["role_rules"])
        if not current:
            await interaction.response.send_message(
                tr(interaction, "No automatic roles yet. Add one with `/settings roles add`."), ephemeral=True)
            return
        lines = []
        for role_id, rules in role_rules.by_role(current).items():
            lines.append(tr(interaction, "<@&{role}>: members who {rules}", role=role_id,
                            rules=tr(interaction, " **and** ").join(r.describe() for r in rules)))
        lines += [f"⚠️ {w}" for w in role_rules.problems(interaction.guild, current)]
        await interaction.response.send_message("\n".join(lines), ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())
