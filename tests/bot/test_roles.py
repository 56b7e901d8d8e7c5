"""Automatic roles: given and taken through dpytest's backend as conditions change; problems are warnings."""

from __future__ import annotations

import asyncio

import discord
import discord.ext.test as dpytest
from discord.ext.test import backend as dpy_backend

from horde_core.clock import FakeClock
from horde_core.service import HordeService
from horde_core.users import repo as users_repo
from tests.bot.harness import DiscordHarness, _discord_error
from tests.bot.social import ROLE_EDIT, account, admin, calls, make_role
from tests.bot.test_generate import MODEL, _worker
from tests.helpers import pop_spec


async def bot_roles(h: DiscordHarness, position: int = 10) -> discord.Role:
    """Give the bot Manage Roles through a role at `position` (its highest role)."""
    role = make_role(h, "hordebot", position, manage_roles=True)
    await dpytest.add_role(h.guild.me, role)
    return role


def roles_cog(h: DiscordHarness):  # type: ignore[no-untyped-def]
    cog = h.bot.get_cog("Roles")
    cog.pace = 0  # no pause between role edits in tests
    return cog


def has(h: DiscordHarness, index: int, role: discord.Role) -> bool:
    return role in h.guild.get_member(h.member(index).id).roles


async def test_a_kudos_role_follows_gifts_and_transfers_both_ways(h: DiscordHarness, service: HordeService) -> None:
    boss = await admin(h)
    await bot_roles(h)
    rich = make_role(h, "Rich", 2)
    cog = roles_cog(h)
    added = await h.slash("settings roles add", {"role": rich, "condition": "kudos", "value": 30}, user=boss)
    assert added.ephemeral and "has at least 30 kudos" in added.content and "⚠️" not in added.content
    assert not any(has(h, i, rich) for i in range(3))  # applied at once: everybody has 25
    await h.slash("settings kudos-emoji add", {"emoji": "👍", "amount": 5}, user=boss)

    msg = await h.post("a tip", member=h.member(1))
    await h.react(msg, "👍", h.member(2))  # 25 -> 30: the gift's event reconciles the two members
    await cog.settle()
    assert has(h, 1, rich) and not has(h, 2, rich)
    given = calls(h, "PUT", ROLE_EDIT)
    assert len(given) == 1 and given[0].url.endswith(f"/members/{h.member(1).id}/roles/{rich.id}")
    mine = await h.slash("account", user=h.member(1))
    earned = {f["name"]: f["value"] for f in mine.embeds[0]["fields"]}["Roles earned"]
    assert earned == rich.mention
    theirs = await h.slash("account", user=h.member(2))
    assert {f["name"]: f["value"] for f in theirs.embeds[0]["fields"]}["Roles earned"] == "none yet"

    await h.slash("kudos transfer", {"member": boss, "amount": 10}, user=h.member(1))  # 30 -> 20, boss 25 -> 35
    await cog.settle()
    assert not has(h, 1, rich) and has(h, 0, rich)
    taken = calls(h, "DELETE", ROLE_EDIT)
    assert len(taken) == 1 and taken[0].url.endswith(f"/members/{h.member(1).id}/roles/{rich.id}")
    assert await cog.sweep() == 0  # nothing left to change


async def test_a_worker_role_follows_the_worker_online_and_offline(h: DiscordHarness, service: HordeService,
                                                                    clock: FakeClock) -> None:
    boss = await admin(h)
    await bot_roles(h)
    gpu = make_role(h, "GPU", 2)
    cog = roles_cog(h)
    await h.slash("settings roles add", {"role": gpu, "condition": "active_worker"}, user=boss)
    assert not has(h, 1, gpu)
    await service.pop_image(await account(service, h.member(1)), pop_spec("member gpu"))  # checks in: online
    assert await cog.sweep() == 1 and has(h, 1, gpu) and not has(h, 2, gpu)
    clock.advance(service.config.core.worker_online_window + 1)  # no check-in since: offline
    assert await cog.sweep() == 1 and not has(h, 1, gpu)


async def test_an_images_role_follows_finished_jobs(h: DiscordHarness, service: HordeService, server) -> None:
    boss = await admin(h)
    await bot_roles(h)
    artist = make_role(h, "Artist", 2)
    cog = roles_cog(h)
    await h.slash("settings roles add", {"role": artist, "condition": "images", "value": 2}, user=boss)
    worker = await _worker(service, server)
    for expected in (False, True):
        serving = asyncio.create_task(worker.serve(len(worker.served) + 1))
        await h.slash("generate", {"prompt": "a fox", "model": MODEL}, user=h.member(1))
        await serving
        await cog.settle()  # the job_finished event, not a sweep
        assert has(h, 1, artist) is expected


async def test_age_trust_and_ratings(h: DiscordHarness, service: HordeService, clock: FakeClock) -> None:
    boss = await admin(h)
    await bot_roles(h)
    veteran, trusted, critic = make_role(h, "Veteran", 2), make_role(h, "Trusted", 3), make_role(h, "Critic", 4)
    cog = roles_cog(h)
    trusted_user, _ = await service.create_user("trusted-one", trusted=True)
    async with service.db.transaction() as conn:  # member 2 is already a trusted horde user
        await users_repo.link_identity(conn, clock.now(), f"discord:{h.member(2).id}", trusted_user.id)
    for i in range(3):  # only members with a horde account can earn roles; looking them up creates none
        await h.slash("account", user=h.member(i))
    await h.slash("settings roles add", {"role": veteran, "condition": "account_age", "value": 3}, user=boss)
    await h.slash("settings roles add", {"role": trusted, "condition": "trusted"}, user=boss)
    rated = await h.slash("settings roles add", {"role": critic, "condition": "ratings", "value": 1}, user=boss)
    assert "rated at least 1 images" in rated.content
    listed = await h.slash("settings roles list", user=boss)
    assert f"<@&{critic.id}>: members who rated at least 1 images" in listed.content
    assert has(h, 2, trusted) and not has(h, 1, trusted) and not has(h, 1, veteran)
    clock.advance(4 * 86_400)
    assert await cog.sweep() == 3  # every member is now a veteran
    assert all(has(h, i, veteran) for i in range(3)) and not any(has(h, i, critic) for i in range(3))
    missing = await h.slash("settings roles add", {"role": veteran, "condition": "kudos"}, user=boss)
    assert "needs a value" in missing.content
    removed = await h.slash("settings roles remove", {"role": veteran}, user=boss)
    assert "Removed 1 rule" in removed.content
    clock.advance(86_400)
    await cog.sweep()
    assert has(h, 1, veteran)  # no longer managed: members keep it


async def test_hierarchy_and_permission_problems_are_warnings(h: DiscordHarness, service: HordeService,
                                                              monkeypatch) -> None:  # type: ignore[no-untyped-def]
    boss = await admin(h)
    cog = roles_cog(h)
    for i in range(3):
        await h.slash("account", user=h.member(i))
    vip = make_role(h, "VIP", 5)
    added = await h.slash("settings roles add", {"role": vip, "condition": "kudos", "value": 1}, user=boss)
    assert "⚠️ I need the **Manage Roles** permission" in added.content
    assert await cog.sweep() == 0 and not calls(h, "PUT", ROLE_EDIT)
    shown = await h.slash("settings show", user=boss)
    attention = shown.embeds[0]["fields"][0]
    assert attention["name"] == "Needs attention" and "Manage Roles" in attention["value"]

    mine = await bot_roles(h, position=3)  # allowed now, but VIP (5) is above the bot's role (3)
    shown = await h.slash("settings show", user=boss)
    assert f"<@&{vip.id}> is not below my highest role (<@&{mine.id}>)" in shown.embeds[0]["fields"][0]["value"]
    assert await cog.sweep() == 0 and not calls(h, "PUT", ROLE_EDIT)

    low = make_role(h, "Low", 2)  # below the bot, but Discord refuses anyway (say, a permission just revoked)
    await h.slash("settings roles remove", {"role": vip}, user=boss)

    async def refuse(*args: object, **kwargs: object) -> None:
        raise _discord_error(403, 50013, "Missing Permissions")

    monkeypatch.setattr(h.bot.http, "add_role", refuse)
    await h.slash("settings roles add", {"role": low, "condition": "kudos", "value": 1}, user=boss)
    assert not any(has(h, i, low) for i in range(3))
    shown = await h.slash("settings show", user=boss)
    assert f"Discord refused to give <@&{low.id}>" in shown.embeds[0]["fields"][0]["value"]
    monkeypatch.undo()
    assert await cog.sweep() == 3  # fixed: applied, and the warning goes away
    assert not (await h.slash("settings show", user=boss)).embeds[0].get("fields")


async def test_rules_of_a_deleted_role_are_dropped(h: DiscordHarness, service: HordeService) -> None:
    boss = await admin(h)
    await bot_roles(h)
    gone = make_role(h, "Gone", 2)
    cog = roles_cog(h)
    await h.slash("settings roles add", {"role": gone, "condition": "kudos", "value": 1}, user=boss)
    dpy_backend.delete_role(gone)
    await cog.sweep()
    assert "role_rules" not in await service.community_settings(f"discord:guild:{h.guild.id}")


async def test_sweeps_create_no_accounts(h: DiscordHarness, service: HordeService) -> None:
    boss = await admin(h)
    await h.slash("account", user=boss)  # the admin has used the bot; the others never did
    await bot_roles(h)
    rich = make_role(h, "Rich", 2)
    await h.slash("settings roles add", {"role": rich, "condition": "kudos", "value": 1}, user=boss)
    await roles_cog(h).sweep()
    keys = [f"discord:{h.member(i).id}" for i in range(3)]
    known = await service.users_for_identities(keys)
    assert set(known) == {keys[0]}  # only the admin, who used the bot; nobody got free kudos
    assert await service.identities_for_users(list(known.values()), "discord:") == {known[keys[0]]: keys[0]}
    assert has(h, 0, rich) and not has(h, 1, rich)
