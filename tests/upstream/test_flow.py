"""Requests flow local -> upstream -> its worker -> back, for images, text and interrogation; local
workers come first; a stalled upstream falls back to a local worker; a restart loses nothing."""

from __future__ import annotations

import base64
import io

from PIL import Image

from horde_core.clock import FakeClock
from horde_core.db import Database
from horde_core.service import HordeService
from horde_core.service.schemas import AlchemyRequestSpec, TextRequestSpec
from horde_core.upstream import CLIENT_AGENT, UpstreamRelay, client_for
from tests.helpers import assert_books_balance, balance, image_request, pop_spec, submit_spec
from tests.public_horde import Public, png_bytes

MEMBER = "discord:111:222"


async def _job_column(service: HordeService, request_id: str, column: str) -> list:  # type: ignore[type-arg]
    async with service.db.read() as conn:
        from horde_core.queue import lifecycle

        return [getattr(j, column) for j in await lifecycle.jobs_of(conn, request_id)]


async def test_images_go_upstream_and_come_back_stored_locally(service: HordeService, public: Public,
                                                               relay: UpstreamRelay, make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    accepted = await service.request_images(member, image_request("a lighthouse at dusk", params={"n": 2},
                                                                  proxied_account=MEMBER))
    after_accept = await balance(service, member)
    assert after_accept == 500 - accepted.kudos

    await relay.tick()
    bodies = public.sent("/v2/generate/async")
    assert len(bodies) == 2  # one upstream request per job, each with the job's own seed
    assert all(b["params"]["n"] == 1 and b["prompt"] == "a lighthouse at dusk" for b in bodies)
    assert {b["proxied_account"] for b in bodies} == {"111:222"}
    assert all(e["headers"].get("Client-Agent") == CLIENT_AGENT and e["headers"].get("apikey") == public.operator_key
               for e in public.log if e["path"].startswith("/api/v2/generate"))
    assert set(await _job_column(service, accepted.id, "state")) == {"processing"}

    image = png_bytes((1, 2, 3))
    assert len(await public.work_images(image)) == 2
    await relay.tick()

    status = await service.status(accepted.id)
    assert status.progress.done and len(status.generations) == 2
    for gen in status.generations:
        kept = Image.open(io.BytesIO(await service.image_bytes(gen.id) or b""))  # kept: the upstream's links expire
        assert kept.format == "WEBP" and kept.size == (64, 64)  # checked and re-encoded like any result
        assert all(abs(a - b) <= 2 for a, b in zip(kept.convert("RGB").getpixel((5, 5)), (1, 2, 3)))
        assert gen.seed == "4242"
        assert gen.model == "stable_diffusion"  # the model the upstream used
    assert await balance(service, member) == after_accept  # charged once, the local price
    report = await service.upstream_report()
    [day] = report["days"]
    assert day["community"] == "discord:111" and day["sent"] == 2 and day["done"] == 2
    assert day["kudos"] > 0  # what the upstream charged the operator, recorded per guild
    await assert_books_balance(service)
    assert relay.inflight == {}


async def test_text_and_interrogation_go_upstream(service: HordeService, public: Public, relay: UpstreamRelay,
                                                  make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    text = await service.request_text(member, TextRequestSpec.model_validate(
        {"prompt": "Tell me a story", "params": {"max_length": 80, "max_context_length": 1024},
         "proxied_account": MEMBER}))
    source = base64.b64encode(png_bytes()).decode()
    rid = await service.request_interrogation(member, AlchemyRequestSpec.model_validate(
        {"forms": [{"name": "caption"}], "source_image": source, "proxied_account": MEMBER}))

    await relay.tick()
    [text_body] = public.sent("/v2/generate/text/async")
    [form_body] = public.sent("/v2/interrogate/async")
    assert text_body["proxied_account"] == form_body["proxied_account"] == "111:222"
    assert text_body["params"]["max_length"] == 80
    assert form_body["forms"] == [{"name": "caption"}]

    assert await public.work_text("upstream tale")
    assert await public.work_forms("a blue square")
    await relay.tick()

    text_status = await service.status(text.id, "text")
    assert text_status.progress.done and text_status.generations[0].text == "upstream tale"
    assert text_status.generations[0].model == "koboldcpp/tiny"
    forms = await service.interrogation_status(rid)
    assert forms.state == "done" and forms.forms[0].result == {"caption": "a blue square"}
    await assert_books_balance(service)


async def test_local_workers_come_first(service: HordeService, public: Public, relay: UpstreamRelay,
                                        clock: FakeClock, make_user) -> None:
    service.config.upstream.wait_seconds = 30
    member, _ = await make_user("member", kudos=500)
    gpu, _ = await make_user("local gpu")
    first = await service.request_images(member, image_request("a cat", proxied_account=MEMBER))
    await relay.tick()
    assert public.sent() == []  # it has not waited long enough for a local worker yet
    popped = await service.pop_image(gpu, pop_spec())
    assert popped.ids == await _job_column(service, first.id, "id")
    await service.submit_image(gpu, submit_spec(popped.ids[0]))

    second = await service.request_images(member, image_request("a dog", proxied_account=MEMBER))
    clock.advance(29)
    await relay.tick()
    assert public.sent() == []
    clock.advance(2)
    await relay.tick()
    assert [b["prompt"] for b in public.sent()] == ["a dog"]
    assert (await service.check(second.id)).processing == 1


async def test_a_stalled_upstream_falls_back_to_a_local_worker(service: HordeService, public: Public,
                                                               relay: UpstreamRelay, clock: FakeClock,
                                                               make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    gpu, _ = await make_user("local gpu")
    accepted = await service.request_images(member, image_request("a castle", proxied_account=MEMBER))
    charged = await balance(service, member)
    await relay.tick()
    assert len(public.sent()) == 1
    assert (await service.pop_image(gpu, pop_spec())).ids == []  # the upstream holds it

    clock.advance(service.config.upstream.stall_seconds)  # nobody at the upstream picks it up
    await relay.tick()
    assert any(e["method"] == "DELETE" for e in public.log)  # stop paying for it up there
    assert await _job_column(service, accepted.id, "upstream_tries") == [1]
    popped = await service.pop_image(gpu, pop_spec())
    assert len(popped.ids) == 1
    await service.submit_image(gpu, submit_spec(popped.ids[0]))
    assert (await service.status(accepted.id)).progress.done
    assert await balance(service, member) == charged  # never charged twice
    [day] = (await service.upstream_report())["days"]
    assert day["failed"] == 1 and day["done"] == 0
    await assert_books_balance(service)


async def test_a_restart_resumes_what_is_at_the_upstream(service: HordeService, public: Public,
                                                         relay: UpstreamRelay, clock: FakeClock, make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    accepted = await service.request_images(member, image_request("a harbour", proxied_account=MEMBER))
    await relay.tick()
    assert len(public.sent()) == 1
    await relay.client.close()

    # A new process: a new service on the same database, a new relay.
    again = HordeService(service.config, Database(service.db.url), clock=clock)
    await again.bootstrap()
    try:
        fresh = UpstreamRelay(again, client_for(again.config))
        await public.work_images()
        await fresh.tick()
        await fresh.client.close()
        assert len(public.sent()) == 1  # polled again, not sent twice
        assert (await again.status(accepted.id)).progress.done
    finally:
        await again.db.dispose()
