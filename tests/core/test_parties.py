"""Parties in the core: the budget is held at start, each generation is paid once, the party ends by itself
when the budget is spent (paying exactly the budget) and returns the rest when its host ends it."""

from __future__ import annotations

import asyncio

import pytest

from horde_core.service import HordeError, HordeService
from tests.helpers import assert_books_balance, balance, image_request, pop_spec, submit_spec

GUILD, CHANNEL = 111, "222"
COMMUNITY = f"discord:guild:{GUILD}"


async def _finished(service: HordeService, member, owner, prompt: str, n: int = 1) -> list[str]:  # type: ignore[no-untyped-def]
    """Jobs of one request by `member`, made in the guild and finished by `owner`'s worker."""
    await service.request_images(member, image_request(prompt, params={"n": n},
                                                       proxied_account=f"discord:{GUILD}:{member.id}"))
    done = []
    while len(done) < n:
        popped = await service.pop_image(owner, pop_spec("gpu"))
        for job_id in popped.ids:
            await service.submit_image(owner, submit_spec(job_id))
            done.append(job_id)
    return done


async def test_a_party_pays_each_entry_once_and_ends_on_exactly_its_budget(service: HordeService,
                                                                           make_user) -> None:
    host, _ = await make_user("host", kudos=100)
    member, _ = await make_user("member", kudos=500)
    owner, _ = await make_user("gpu")
    earlier = await _finished(service, member, owner, "a dragon in autumn")  # before the party: never enters
    service.clock.advance(1)  # type: ignore[attr-defined]
    ended: list[dict] = []  # type: ignore[type-arg]
    service.events.subscribe("party_ended", ended.append)
    party = await service.start_party(host, COMMUNITY, CHANNEL, theme="dragon, autumn", award=15, budget=40)
    assert party.words == ["dragon", "autumn"] and party.escrow == 40
    assert await balance(service, host) == 60  # held at once
    await assert_books_balance(service)

    assert await service.party_entry(earlier[0], CHANNEL) is None
    off_theme = await _finished(service, member, owner, "a dragon in spring")
    assert await service.party_entry(off_theme[0], CHANNEL) is None
    elsewhere = await _finished(service, member, owner, "an autumn dragon")
    assert await service.party_entry(elsewhere[0], "999") is None  # another channel has no party
    jobs = await _finished(service, member, owner, "A DRAGON sleeping in Autumn leaves###dragons", n=3)
    before = await balance(service, member)
    first = await service.party_entry(jobs[0], CHANNEL)
    assert first is not None and first.award == 15 and not first.ended
    assert await service.party_entry(jobs[0], CHANNEL) is None  # one award per generation
    assert await service.party_entry(elsewhere[0], CHANNEL) is not None  # its own channel now: 15 more
    last = await service.party_entry(jobs[1], CHANNEL)
    assert last is not None and last.award == 10 and last.ended  # what was left, and the party is over
    assert ended == [{"party_id": party.id, "community": COMMUNITY, "channel": CHANNEL}]
    assert await service.party_entry(jobs[2], CHANNEL) is None
    assert await balance(service, member) == before + 40  # exactly the budget
    summary = await service.party_summary(party.id)
    assert summary.party.paid == 40 and summary.party.escrow == 0 and summary.party.refunded == 0
    assert summary.party.state == "ended" and summary.party.end_reason == "budget" and summary.party.entries == 3
    assert summary.entrants == [(member.id, 3, 40)]
    assert await balance(service, host) == 60
    assert await service.party_in(COMMUNITY, CHANNEL) is None
    await assert_books_balance(service)


async def test_the_host_ends_a_party_and_gets_the_rest_back(service: HordeService, make_user) -> None:
    host, _ = await make_user("host", kudos=100)
    member, _ = await make_user("member", kudos=100)
    owner, _ = await make_user("gpu")
    await service.start_party(host, COMMUNITY, CHANNEL, theme="robots", award=10, budget=50)
    with pytest.raises(HordeError) as twice:
        await service.start_party(host, COMMUNITY, CHANNEL, theme="cats", award=1, budget=1)
    assert twice.value.rc == "PartyRunning"
    own = await _finished(service, host, owner, "robots dancing")
    assert await service.party_entry(own[0], CHANNEL) is None  # the host does not pay themself
    jobs = await _finished(service, member, owner, "two robots")
    assert (await service.party_entry(jobs[0], CHANNEL)).award == 10  # type: ignore[union-attr]
    with pytest.raises(HordeError) as not_host:
        await service.end_party(COMMUNITY, CHANNEL, member.id)
    assert not_host.value.rc == "NotHost"
    summary = await service.end_party(COMMUNITY, CHANNEL, host.id)
    assert summary.party.paid == 10 and summary.party.refunded == 40 and summary.party.end_reason == "host"
    assert await balance(service, host) == 100 - 10 - 9  # the award and its own generation (6 + 3 tax)
    await assert_books_balance(service)


async def test_refusals_hold_nothing(service: HordeService, make_user) -> None:
    host, _ = await make_user("host", kudos=30)
    for kwargs, rc in (({"theme": "  ", "award": 5, "budget": 10}, "PartyTheme"),
                       ({"theme": "x", "award": 5, "budget": 4}, "PartyBudget"),
                       ({"theme": "x", "award": 5, "budget": 31}, "KudosUpfront")):
        with pytest.raises(HordeError) as refused:
            await service.start_party(host, COMMUNITY, CHANNEL, **kwargs)  # type: ignore[arg-type]
        assert refused.value.rc == rc
    assert await balance(service, host) == 30 and await service.party_in(COMMUNITY, CHANNEL) is None
    await assert_books_balance(service)


async def test_racing_entries_never_pay_more_than_the_budget(service: HordeService, make_user) -> None:
    host, _ = await make_user("host", kudos=100)
    member, _ = await make_user("member", kudos=1000)
    owner, _ = await make_user("gpu")
    await service.start_party(host, COMMUNITY, CHANNEL, theme="moon", award=7, budget=50)
    jobs = []
    for _ in range(3):
        jobs += await _finished(service, member, owner, "the moon", n=4)
    before = await balance(service, member)
    awards = await asyncio.gather(*(service.party_entry(j, CHANNEL) for j in jobs))
    paid = [a.award for a in awards if a is not None]
    assert sum(paid) == 50 and sorted(paid) == [1] + [7] * 7 and sum(a.ended for a in awards if a) == 1
    assert await balance(service, member) == before + 50
    await assert_books_balance(service)
