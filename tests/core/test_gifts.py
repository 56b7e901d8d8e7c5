"""Kudos gifts: the rules, exactly-once per reaction, and no kudo created or lost under concurrency."""

from __future__ import annotations

import asyncio

import pytest

from horde_core.clock import FakeClock
from horde_core.service import GiftError, GiftRules, HordeService
from tests.helpers import assert_books_balance, balance

RULES = GiftRules(daily_cap=100, recipient_daily_cap=150, cooldown=10)
FREE = GiftRules(daily_cap=10**9, recipient_daily_cap=10**9, cooldown=0)


async def _gift(service: HordeService, sender, recipient, amount: int = 5, *, message: str = "m1",  # type: ignore[no-untyped-def]
                emoji: str = "👍", rules: GiftRules = RULES) -> None:
    await service.gift_kudos(community="discord:1", sender=sender.id, recipient=recipient.id, amount=amount,
                             message_ref=f"discord:1:2:{message}", emoji=emoji, rules=rules)


async def test_gift_rules(service: HordeService, make_user, clock: FakeClock) -> None:
    alice, _ = await make_user("alice", kudos=200)
    bob, _ = await make_user("bob")
    await _gift(service, alice, bob)
    assert (await balance(service, alice), await balance(service, bob)) == (195, 5)
    for kwargs, rc in (({"message": "m1"}, "GiftDuplicate"), ({"message": "m2"}, "GiftCooldown")):
        with pytest.raises(GiftError) as refused:
            await _gift(service, alice, bob, **kwargs)
        assert refused.value.rc == rc
    clock.advance(11)
    await _gift(service, alice, bob, message="m1", emoji="<:kudos:42>")  # another emoji on the same message
    with pytest.raises(GiftError) as selfish:
        await _gift(service, alice, alice, message="m3")
    assert selfish.value.rc == "GiftSelf"
    clock.advance(11)
    with pytest.raises(GiftError) as capped:
        await _gift(service, alice, bob, 95, message="m4")
    assert capped.value.rc == "GiftDailyCap"
    with pytest.raises(GiftError) as poor:
        await _gift(service, bob, alice, 50, message="m5")
    assert poor.value.rc == "GiftFunds"  # gifts never take a balance below zero
    clock.advance(86400)
    await _gift(service, alice, bob, 95, message="m4")  # a new day
    assert (await balance(service, alice), await balance(service, bob)) == (95, 105)
    await assert_books_balance(service)


async def test_100_simultaneous_gifts_from_a_sender_with_enough_for_50(service: HordeService, make_user) -> None:
    sender, _ = await make_user("sender", kudos=50)
    recipients = [(await make_user(f"r{i}"))[0] for i in range(4)]

    async def one(i: int) -> bool:
        try:
            await _gift(service, sender, recipients[i % 4], 1, message=f"m{i}", rules=FREE)
        except GiftError as exc:
            assert exc.rc == "GiftFunds"
            return False
        return True

    outcomes = await asyncio.gather(*[one(i) for i in range(100)])
    assert sum(outcomes) == 50
    assert await balance(service, sender) == 0
    assert sum([await balance(service, r) for r in recipients]) == 50
    await assert_books_balance(service)


async def test_caps_hold_under_concurrency(service: HordeService, make_user) -> None:
    rich = [(await make_user(f"rich{i}", kudos=1000))[0] for i in range(5)]
    target, _ = await make_user("target")
    rules = GiftRules(daily_cap=1000, recipient_daily_cap=30, cooldown=0)
    results = await asyncio.gather(*[_gift(service, rich[i % 5], target, 5, message=f"x{i}", rules=rules)
                                     for i in range(20)], return_exceptions=True)
    assert sum(r is None for r in results) == 6  # exactly the recipient's cap, never more
    assert await balance(service, target) == 30


async def test_history_leaderboard_and_facts(service: HordeService, make_user, clock: FakeClock) -> None:
    alice, _ = await make_user("alice", kudos=100)
    bob, _ = await make_user("bob")
    carol, _ = await make_user("carol", kudos=100)
    await _gift(service, alice, bob, 7, rules=FREE)
    await _gift(service, carol, bob, 3, message="m2", rules=FREE)
    await _gift(service, carol, alice, 20, message="m3", rules=FREE)
    board = await service.gift_leaderboard("discord:1")
    assert board["given"] == [(carol.id, 23), (alice.id, 7)]
    assert board["received"] == [(alice.id, 20), (bob.id, 10)]
    first = await service.kudos_history(alice.id, limit=2)
    assert [e["amount"] for e in first] == [20, -7]
    rest = await service.kudos_history(alice.id, limit=2, before_id=first[-1]["id"])
    assert [(e["amount"], e["reason"]) for e in rest] == [(100, "starting_balance")]
    clock.advance(3 * 86400)
    facts = await service.member_facts([alice.id, bob.id])
    assert facts[bob.id].kudos == 10 and not facts[bob.id].active_worker
    assert round(facts[alice.id].account_age_days) == 3
