"""Bad upstream behaviour (5xx, malformed JSON, hangs, expired image links, being unreachable) never loses a
request or a kudo: the job goes back to the local queue and a local worker (or a later try) serves it."""

from __future__ import annotations

from aiohttp import web

from horde_core.clock import FakeClock
from horde_core.service import HordeService
from horde_core.upstream import UpstreamRelay, client_for
from tests.helpers import assert_books_balance, balance, image_request, pop_spec, submit_spec
from tests.public_horde import Public

MEMBER = "discord:111:222"


def broken() -> web.Response:
    return web.Response(status=200, text="{not json", content_type="application/json")


async def _finish_locally(service: HordeService, make_user, request_id: str) -> None:  # type: ignore[no-untyped-def]
    gpu, _ = await make_user("local gpu")
    popped = await service.pop_image(gpu, pop_spec())
    assert popped.ids, "the job should be back in the local queue"
    for job_id in popped.ids:
        await service.submit_image(gpu, submit_spec(job_id))
    assert (await service.status(request_id)).progress.done


async def test_a_5xx_on_send_gives_the_job_back_and_backs_off(service: HordeService, public: Public,
                                                             relay: UpstreamRelay, clock: FakeClock,
                                                             make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    public.faults[("POST", "/api/v2/generate/async")] = lambda: web.json_response({"message": "boom"}, status=503)
    accepted = await service.request_images(member, image_request("a mill", proxied_account=MEMBER))
    charged = await balance(service, member)
    await relay.tick()
    assert (await service.check(accepted.id)).waiting == 1
    assert relay.backoff_until > clock.now()
    await relay.tick()
    assert len(public.sent()) == 1  # backing off: no second try yet

    del public.faults[("POST", "/api/v2/generate/async")]
    clock.advance(service.config.upstream.retry_seconds + service.config.upstream.backoff_seconds)
    await relay.tick()
    assert len(public.sent()) == 2  # tried again after the pause
    await public.work_images()
    await relay.tick()
    assert (await service.status(accepted.id)).progress.done
    assert await balance(service, member) == charged
    await assert_books_balance(service)


async def test_malformed_answers_while_polling_lose_nothing(service: HordeService, public: Public,
                                                           relay: UpstreamRelay, make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    accepted = await service.request_images(member, image_request("a bridge", proxied_account=MEMBER))
    await relay.tick()
    public.faults[("GET", "/api/v2/generate/check")] = broken
    await public.work_images()
    await relay.tick()
    assert (await service.check(accepted.id)).processing == 1  # still held, asked again next time
    del public.faults[("GET", "/api/v2/generate/check")]
    public.faults[("GET", "/api/v2/generate/status")] = lambda: web.json_response({"done": True, "generations": 7})
    await relay.tick()
    assert (await service.check(accepted.id)).waiting == 1  # nonsense result: back to local workers
    await _finish_locally(service, make_user, accepted.id)
    await assert_books_balance(service)


async def test_an_expired_image_link_falls_back_locally(service: HordeService, public: Public,
                                                       relay: UpstreamRelay, make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    accepted = await service.request_images(member, image_request("a tower", proxied_account=MEMBER))
    charged = await balance(service, member)
    await relay.tick()
    await public.work_images()
    public.faults[("GET", "/api/v2/r2/")] = lambda: web.json_response(
        {"message": "expired", "rc": "InvalidSignature"}, status=403)
    await relay.tick()
    assert (await service.check(accepted.id)).waiting == 1
    await _finish_locally(service, make_user, accepted.id)
    assert await balance(service, member) == charged
    [day] = (await service.upstream_report())["days"]
    assert day["failed"] == 1 and day["kudos"] > 0  # what the upstream charged is recorded all the same
    await assert_books_balance(service)


async def test_a_hanging_upstream_times_out_and_the_job_stays_safe(service: HordeService, public: Public,
                                                                  relay: UpstreamRelay, make_user) -> None:
    service.config.upstream.http_timeout = 0.3
    relay.client = client_for(service.config)
    member, _ = await make_user("member", kudos=500)
    public.faults[("POST", "/api/v2/generate/async")] = "hang"
    accepted = await service.request_images(member, image_request("a dune", proxied_account=MEMBER))
    await relay.tick()
    assert (await service.check(accepted.id)).waiting == 1
    await _finish_locally(service, make_user, accepted.id)
    await assert_books_balance(service)


async def test_an_unreachable_upstream_changes_nothing_locally(service: HordeService, relay: UpstreamRelay,
                                                              make_user) -> None:
    service.config.upstream.url = "http://127.0.0.1:9/api/"  # nothing listens there
    relay.client = client_for(service.config)
    member, _ = await make_user("member", kudos=500)
    accepted = await service.request_images(member, image_request("a moor", proxied_account=MEMBER))
    await relay.tick()
    assert (await service.check(accepted.id)).waiting == 1
    await _finish_locally(service, make_user, accepted.id)
    health = (await service.upstream_report())["health"]
    assert "unreachable" in health["last_error"]


async def test_a_job_cancelled_locally_is_cancelled_upstream(service: HordeService, public: Public,
                                                            relay: UpstreamRelay, make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    accepted = await service.request_images(member, image_request("a fjord", proxied_account=MEMBER))
    await relay.tick()
    await service.cancel(accepted.id)
    await relay.tick()
    assert [e["method"] for e in public.log if e["path"].startswith("/api/v2/generate/status")] == ["DELETE"]
    assert relay.inflight == {}
    assert await balance(service, member) == 500
    await assert_books_balance(service)


async def test_an_operator_account_problem_backs_off_without_spending_the_jobs_tries(
        service: HordeService, public: Public, relay: UpstreamRelay, clock: FakeClock, make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    public.faults[("POST", "/api/v2/generate/async")] = lambda: web.json_response(
        {"message": "Only service accounts can provide a proxied_account value.", "rc": "OnlyServiceAccountProxy"},
        status=400)
    accepted = await service.request_images(member, image_request("a glacier", proxied_account=MEMBER))
    for _ in range(3):  # more than max_tries rounds: the upstream is at fault, not the job
        relay.backoff_until = 0
        clock.advance(service.config.upstream.retry_seconds)
        await relay.tick()
    assert len(public.sent()) == 3 and relay.backoff_until > clock.now()
    async with service.db.read() as conn:
        from horde_core.queue import lifecycle

        [job] = await lifecycle.jobs_of(conn, accepted.id)
    assert job.state == "waiting" and job.upstream_tries == 0
    assert "service account" in (await service.upstream_report())["health"]["last_error"]
    assert await service.community_strikes(None) == []  # nobody's fault among the members


async def test_an_upstream_that_goes_unreachable_gives_its_jobs_back_at_once(
        service: HordeService, public: Public, relay: UpstreamRelay, make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    accepted = await service.request_images(member, image_request("a heath", proxied_account=MEMBER))
    charged = await balance(service, member)
    await relay.tick()
    assert (await service.check(accepted.id)).processing == 1
    reachable = relay.client.base
    relay.client.base = "http://127.0.0.1:9/api"  # the upstream's address stops answering
    await relay.tick()  # no clock advance: long before stall_seconds
    assert (await service.check(accepted.id)).waiting == 1
    async with service.db.read() as conn:
        from horde_core.queue import lifecycle

        [job] = await lifecycle.jobs_of(conn, accepted.id)
    assert job.upstream_tries == 0  # not the job's fault
    await _finish_locally(service, make_user, accepted.id)
    assert await balance(service, member) == charged

    await public.work_images()  # meanwhile the upstream did it (and charged the operator for it)
    relay.client.base = reachable  # back: what it still holds for us is cancelled, its charge recorded
    relay.backoff_until = 0
    await relay.tick()
    assert [e["method"] for e in public.log if e["path"].startswith("/api/v2/generate/status")] == ["DELETE"]
    [day] = (await service.upstream_report())["days"]
    assert day["failed"] == 1 and day["kudos"] > 0
    await assert_books_balance(service)
