"""Only clean work leaves the house: blocked prompts, penalised members and guilds never reach the upstream
(asserted on its request log); its refusals and csam verdicts become strikes here, hold the member back
and pause the guild (at once without a proxy passkey, when they repeat with one), so one guild can never
get the operator's key or address timed out. See test_refusals.py for the public horde's timeouts."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import update

from horde_core.clock import FakeClock
from horde_core.models import Request
from horde_core.service import HordeService
from horde_core.upstream import UpstreamRelay
from tests.helpers import assert_books_balance, balance, image_request
from tests.public_horde import Public

MEMBER = "discord:111:222"


def refuse(rc: str, status: int = 400) -> web.Response:
    return web.json_response({"message": "refused by the upstream's rules", "rc": rc}, status=status)


async def _pending(service: HordeService, request_id: str) -> list[tuple[str, int]]:
    async with service.db.read() as conn:
        from horde_core.queue import lifecycle

        return [(j.state, j.upstream_tries) for j in await lifecycle.jobs_of(conn, request_id)]


async def test_a_prompt_our_filter_blocks_never_leaves(service: HordeService, public: Public, relay: UpstreamRelay,
                                                      make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    accepted = await service.request_images(member, image_request("a quiet harbour", proxied_account=MEMBER))
    # Accepted under older terms (or edited in the database): the relay checks again before it sends.
    async with service.db.transaction() as conn:
        await conn.execute(update(Request.__table__).where(Request.__table__.c.id == accepted.id)
                           .values(prompt="nude child"))
    clean = await service.request_images(member, image_request("a lighthouse", proxied_account="discord:111:333"))
    await relay.tick()
    assert [b["prompt"] for b in public.sent()] == ["a lighthouse"]
    assert all("child" not in str(e["body"]) for e in public.log)
    assert await _pending(service, accepted.id) == [("waiting", service.config.upstream.max_tries)]  # local only
    assert (await service.check(clean.id)).processing == 1


async def test_timed_out_members_and_suspended_guilds_never_reach_the_upstream(
        service: HordeService, public: Public, relay: UpstreamRelay, make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    # Queued before their sanctions: the requests wait locally, but never go upstream.
    late_member = await service.request_images(member, image_request("a red barn", proxied_account="discord:1:9"))
    late_guild = await service.request_images(member, image_request("a blue barn", proxied_account="discord:2:9"))
    fine = await service.request_images(member, image_request("a green barn", proxied_account="discord:3:9"))
    await service.record_strike(service.subject(member.id, False, "discord:1:9", ""), "blocked_prompt")
    await service.set_community_sanction("discord:2", "suspended", 3600, "operator")
    await relay.tick()
    assert [b["prompt"] for b in public.sent()] == ["a green barn"]
    assert (await service.check(late_member.id)).waiting == 1
    assert (await service.check(late_guild.id)).waiting == 1
    assert (await service.check(fine.id)).processing == 1


def _paused_communities(report: dict) -> list[str]:  # type: ignore[type-arg]
    return [p["community"] for p in report["pauses"] if not p["community"].startswith("member:")]


async def test_upstream_refusals_are_strikes_here_and_pause_the_guild(
        service: HordeService, public: Public, relay: UpstreamRelay, clock: FakeClock, make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    public.faults[("POST", "/api/v2/generate/async")] = lambda: refuse("CorruptPrompt")
    first = await service.request_images(member, image_request("an odd thing", proxied_account="discord:111:1"))
    charged = await balance(service, member)
    await relay.tick()
    strikes = await service.community_strikes("discord:111")
    assert [(s["subject"], s["reason"]) for s in strikes] == [("member:discord:111:1", "upstream_refusal")]
    assert await _pending(service, first.id) == [("waiting", service.config.upstream.max_tries)]
    assert await balance(service, member) == charged  # still queued for local workers, nothing charged twice
    report = await service.upstream_report()
    # Without a passkey each refusal times out everyone's address upstream: one pauses the guild.
    assert _paused_communities(report) == ["discord:111"]
    assert "member:discord:111:1" in [p["community"] for p in report["pauses"]]  # and holds the member

    del public.faults[("POST", "/api/v2/generate/async")]
    sent_before = len(public.sent())
    await service.request_images(member, image_request("a harmless cat", proxied_account="discord:111:3"))
    await service.request_images(member, image_request("a harmless dog", proxied_account="discord:999:3"))
    await relay.tick()
    assert [b["prompt"] for b in public.sent()[sent_before:]] == ["a harmless dog"]  # other guilds carry on
    await assert_books_balance(service)


async def test_an_operator_timeout_pauses_everyone(service: HordeService, public: Public, relay: UpstreamRelay,
                                                   make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    public.faults[("POST", "/api/v2/generate/async")] = lambda: refuse("TimeoutIP", 403)
    await service.request_images(member, image_request("a cat", proxied_account="discord:5:1"))
    await relay.tick()
    assert "*" in [p["community"] for p in (await service.upstream_report())["pauses"]]
    del public.faults[("POST", "/api/v2/generate/async")]
    await service.request_images(member, image_request("a dog", proxied_account="discord:6:1"))
    relay.backoff_until = 0
    await relay.tick()
    assert len(public.sent()) == 1  # only the refused one was ever sent


async def test_an_nsfw_censor_is_never_a_strike(
        service: HordeService, public: Public, relay: UpstreamRelay, make_user) -> None:
    service.config.upstream.allow_nsfw = True
    member, _ = await make_user("member", kudos=500)
    nsfw_ok = await service.request_images(member, image_request("a figure study", nsfw=True, censor_nsfw=False,
                                                                 proxied_account="discord:7:1"))
    sfw = await service.request_images(member, image_request("a beach", proxied_account="discord:8:1"))
    charged = await balance(service, member)
    await relay.tick()
    assert len(await public.work_images(state="censored")) == 2
    await relay.tick()
    assert (await service.status(nsfw_ok.id)).generations[0].censored
    assert (await service.status(sfw.id)).generations[0].censored
    # The SFW request's censoring is what it asked for; an NSFW censor of the other is the model's output,
    # not the member's abuse (only a csam verdict is).
    assert await service.community_strikes(None) == []
    assert _paused_communities(await service.upstream_report()) == []
    assert await balance(service, member) > charged  # censored images are refunded, as for local workers
    await assert_books_balance(service)


async def test_csam_verdicts_from_the_upstream_strike_the_member_and_pause_the_guild(
        service: HordeService, public: Public, relay: UpstreamRelay, make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    for user in ("1", "2"):
        await service.request_images(member, image_request("a portrait", proxied_account=f"discord:77:{user}"))
    await relay.tick()
    assert len(await public.work_images(state="csam")) == 2
    await relay.tick()
    strikes = await service.community_strikes("discord:77")
    assert sorted((s["subject"], s["reason"]) for s in strikes) == [
        ("member:discord:77:1", "csam"), ("member:discord:77:2", "csam")]
    assert _paused_communities(await service.upstream_report()) == ["discord:77"]
    await assert_books_balance(service)
