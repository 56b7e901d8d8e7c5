"""One member's refused prompt must never stop the community: with a proxy passkey the public horde times
out only that member's `Proxied-For` value; without one it times out the operator's address, and the
relay then pauses everyone for exactly the time the upstream states, striking nobody for it."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from horde_core.clock import FakeClock
from horde_core.queue import lifecycle
from horde_core.service import HordeService
from horde_core.upstream import UpstreamRelay
from tests.helpers import assert_books_balance, image_request
from tests.public_horde import Public

REFUSED = "a forbiddenword at the beach"  # our filter lets it pass; the public horde's refuses it


async def _jobs(service: HordeService, request_id: str) -> list[tuple[str, int]]:
    async with service.db.read() as conn:
        return [(j.state, j.upstream_tries) for j in await lifecycle.jobs_of(conn, request_id)]


async def _struck(service: HordeService) -> list[str]:
    return sorted(s["subject"] for s in await service.community_strikes(None))


def _headers_of(public: Public, prompt: str) -> list[dict[str, str]]:
    return [e["headers"] for e in public.log if e["method"] == "POST" and e["path"] == "/api/v2/generate/async"
            and isinstance(e["body"], dict) and e["body"].get("prompt") == prompt]


async def _with_passkey(service: HordeService, relay: UpstreamRelay) -> str:
    passkey = await relay.client.generate_passkey()
    await service.upstream_store_passkey(passkey)
    return passkey


async def test_a_refused_member_leaves_their_guild_and_other_guilds_unaffected(
        service: HordeService, public: Public, relay: UpstreamRelay, make_user) -> None:
    passkey = await _with_passkey(service, relay)
    member, _ = await make_user("member", kudos=1000)
    bad = await service.request_images(member, image_request(REFUSED, proxied_account="discord:10:1"))
    same_guild = await service.request_images(member, image_request("a lighthouse", proxied_account="discord:10:2"))
    other_guild = await service.request_images(member, image_request("a harbour", proxied_account="discord:20:1"))
    await relay.tick()

    assert await _struck(service) == ["member:discord:10:1"]
    assert await _jobs(service, bad.id) == [("waiting", service.config.upstream.max_tries)]  # local only now
    refused_for = _headers_of(public, REFUSED)[0]["Proxied-For"]
    assert public.rules.timed_out() == [refused_for]  # only the member's value, not the operator's address
    await public.work_images()
    await relay.tick()
    for accepted in (same_guild, other_guild):
        assert (await service.status(accepted.id)).progress.done

    # Every request carried the passkey and a per-member value: an IP address (what the public horde
    # expects there) that names nobody and differs between members.
    values = {}
    for prompt in (REFUSED, "a lighthouse", "a harbour"):
        [headers] = _headers_of(public, prompt)
        assert headers["Proxy-Authorization"] == passkey
        values[prompt] = headers["Proxied-For"]
        ipaddress.ip_address(values[prompt])
    assert len(set(values.values())) == 3
    assert values["a lighthouse"] == await service.upstream_proxied_for("member:discord:10:2")  # stable

    # The guild carries on upstream; the refused member (once their timeout here is over) stays local.
    service.clock.advance(service.config.safety.timeout_first + 1)  # type: ignore[attr-defined]
    again = await service.request_images(member, image_request("a calm sea", proxied_account="discord:10:1"))
    newcomer = await service.request_images(member, image_request("a dune", proxied_account="discord:10:3"))
    await relay.tick()
    assert (await service.check(newcomer.id)).processing == 1
    assert (await service.check(again.id)).waiting == 1
    assert (await service.upstream_report())["proxying"] is True
    await assert_books_balance(service)


async def test_without_a_passkey_the_operator_timeout_pauses_everyone_for_exactly_the_stated_time(
        service: HordeService, public: Public, relay: UpstreamRelay, clock: FakeClock, make_user) -> None:
    member, _ = await make_user("member", kudos=1000)
    await service.request_images(member, image_request(REFUSED, proxied_account="discord:10:1"))
    innocent = await service.request_images(member, image_request("a harbour", proxied_account="discord:20:1"))
    start = clock.now()
    await relay.tick()
    # The refusal timed out the operator's address (3 minutes); the next member's request learnt it.
    assert public.rules.timed_out() == ["127.0.0.1"]
    assert await _struck(service) == ["member:discord:10:1"]  # nobody else
    assert await _jobs(service, innocent.id) == [("waiting", 0)]  # back locally, its tries kept
    pauses = {p["community"]: p["until"] for p in (await service.upstream_report())["pauses"]}
    assert pauses["*"] == start + 180

    sent = len(public.sent())
    clock.advance(179)
    await relay.tick()
    assert len(public.sent()) == sent  # still paused, nothing sent
    clock.advance(1)
    await relay.tick()
    assert public.sent()[-1]["prompt"] == "a harbour"
    await public.work_images()
    await relay.tick()
    assert (await service.status(innocent.id)).progress.done
    assert await _struck(service) == ["member:discord:10:1"]
    await assert_books_balance(service)


async def test_a_timeout_without_stated_seconds_backs_off_exponentially_and_strikes_nobody(
        service: HordeService, public: Public, relay: UpstreamRelay, clock: FakeClock, make_user) -> None:
    public.faults[("POST", "/api/v2/generate/async")] = lambda: web.json_response(
        {"message": "Due to abuse prevention, your IP address has been put into timeout. Please try again later, "
                    "or contact us on discord if you think this was an error.", "rc": "TimeoutIP"}, status=403)
    member, _ = await make_user("member", kudos=1000)
    accepted = await service.request_images(member, image_request("a harbour", proxied_account="discord:20:1"))
    base = service.config.upstream.backoff_seconds
    lengths = []
    for _ in range(3):
        start = clock.now()
        await relay.tick()
        pauses = {p["community"]: p["until"] for p in (await service.upstream_report())["pauses"]}
        lengths.append(pauses["*"] - start)
        clock.advance(pauses["*"] - start)
    assert lengths == [base, 2 * base, 4 * base]
    assert await _struck(service) == []
    assert await _jobs(service, accepted.id) == [("waiting", 0)]


async def test_a_member_timed_out_upstream_is_held_alone_and_a_second_one_means_the_operator(
        service: HordeService, public: Public, relay: UpstreamRelay, clock: FakeClock, make_user) -> None:
    await _with_passkey(service, relay)
    member, _ = await make_user("member", kudos=1000)
    held_value = await service.upstream_proxied_for("member:discord:10:1")
    public.rules.timeouts[held_value] = clock.now() + 600  # e.g. the upstream's moderators timed them out
    held = await service.request_images(member, image_request("a red barn", proxied_account="discord:10:1"))
    other = await service.request_images(member, image_request("a blue barn", proxied_account="discord:20:1"))
    await relay.tick()
    assert await _jobs(service, held.id) == [("waiting", 0)]
    assert (await service.check(other.id)).processing == 1  # everyone else carries on
    assert [p["community"] for p in (await service.upstream_report())["pauses"]] == ["member:discord:10:1"]

    # Now the passkey stops working (regenerated elsewhere) while the operator's address is in timeout:
    # another member's timeout too means it is the operator's, and everyone waits exactly that long.
    public.rules.proxy_passkey = "someone-elses"
    public.rules.timeouts["127.0.0.1"] = clock.now() + 300
    third = await service.request_images(member, image_request("a green barn", proxied_account="discord:30:1"))
    await relay.tick()
    pauses = {p["community"]: p["until"] for p in (await service.upstream_report())["pauses"]}
    assert pauses["*"] == clock.now() + 300
    assert await _jobs(service, third.id) == [("waiting", 0)]
    assert await _struck(service) == []


async def test_repeated_refusals_hold_the_guild_back_and_many_stop_everyone(
        service: HordeService, public: Public, relay: UpstreamRelay, clock: FakeClock, make_user) -> None:
    await _with_passkey(service, relay)
    service.config.upstream.pause_all_after = 3
    member, _ = await make_user("member", kudos=2000)
    for user in ("1", "2"):
        await service.request_images(member, image_request(REFUSED, proxied_account=f"discord:10:{user}"))
        await relay.tick()
    pauses = [p["community"] for p in (await service.upstream_report())["pauses"]]
    assert "discord:10" in pauses and "*" not in pauses  # two refusals within a day: the guild waits
    later = await service.request_images(member, image_request("a lighthouse", proxied_account="discord:10:3"))
    await relay.tick()
    assert (await service.check(later.id)).waiting == 1

    await service.request_images(member, image_request(REFUSED, proxied_account="discord:20:1"))
    await relay.tick()
    pauses = {p["community"]: p["until"] for p in (await service.upstream_report())["pauses"]}
    assert pauses["*"] == clock.now() + service.config.upstream.pause_all_seconds  # three within the hour: all
    assert await _struck(service) == ["member:discord:10:1", "member:discord:10:2", "member:discord:20:1"]


async def test_prompts_only_the_strictest_filter_stops_stay_local(
        service: HordeService, public: Public, relay: UpstreamRelay, make_user) -> None:
    member, _ = await make_user("member", kudos=1000)
    risky = await service.request_images(member, image_request("schoolgirl in bikini", proxied_account="discord:1:1"))
    fine = await service.request_images(member, image_request("a school of fish", proxied_account="discord:1:2"))
    await relay.tick()
    assert [b["prompt"] for b in public.sent()] == ["a school of fish"]
    assert await _jobs(service, risky.id) == [("waiting", service.config.upstream.max_tries)]
    assert (await service.check(fine.id)).processing == 1
    assert await _struck(service) == []  # accepted here; only kept from the shared account
