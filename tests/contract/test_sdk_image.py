"""Contract tests: horde-sdk 0.18.0 in strict mode (TESTS_ONGOING=1, extra=forbid) against our API.

Every response below is parsed by the SDK's own pydantic models; a field we add, drop or mistype
makes the SDK hand back a `RequestErrorResponse` instead of the model, and the test fails.
The client side and the worker side run as two asyncio tasks in one loop over real HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import io
import uuid
from typing import Any

import aiohttp
import pytest
from horde_sdk.ai_horde_api.ai_horde_clients import (
    AIHordeAPIAsyncClientSession,
    AIHordeAPIAsyncManualClient,
)
from horde_sdk.ai_horde_api.apimodels import (
    AIHordeHeartbeatRequest,
    AIHordeHeartbeatResponse,
    AllWorkersDetailsRequest,
    AllWorkersDetailsResponse,
    FindUserRequest,
    HordePerformanceRequest,
    HordePerformanceResponse,
    HordeStatusModelsAllRequest,
    HordeStatusModelsAllResponse,
    HordeStatusModelsSingleRequest,
    HordeStatusModelsSingleResponse,
    ImageGenerateAsyncDryRunResponse,
    ImageGenerateAsyncRequest,
    ImageGenerateAsyncResponse,
    ImageGenerateCheckRequest,
    ImageGenerateCheckResponse,
    ImageGenerateJobPopRequest,
    ImageGenerateJobPopResponse,
    ImageGenerateStatusRequest,
    ImageGenerateStatusResponse,
    ImageGenerationInputPayload,
    ImageGenerationJobSubmitRequest,
    ImageStatsModelsRequest,
    ImageStatsModelsResponse,
    ImageStatsModelsTotalRequest,
    ImageStatsModelsTotalResponse,
    JobSubmitResponse,
    KudosTransferRequest,
    KudosTransferResponse,
    ModifyWorkerRequest,
    ModifyWorkerResponse,
    NewsRequest,
    NewsResponse,
    SingleUserDetailsRequest,
    SingleWorkerDetailsRequest,
    SingleWorkerDetailsResponse,
    SingleWorkerNameDetailsRequest,
    UserDetailsResponse,
)
from horde_sdk.ai_horde_api.consts import GENERATION_STATE, MODEL_STATE, MODEL_TYPE, WORKER_TYPE
from horde_sdk.generic_api.apimodels import RequestErrorResponse
from PIL import Image

from horde_core.queue import lifecycle
from horde_core.service import HordeService
from tests.contract.sdk import call, tiny_webp

MODEL = "stable_diffusion"
BRIDGE = "AI Horde Worker reGen:8.0.1-citests:https://github.com/Haidra-Org/horde-worker-reGen"
POLL_LIMIT = 400  # x 0.02 s: a bound on every wait for the other task, never a timing assumption












def pop_request(key: str, name: str, **kwargs: Any) -> ImageGenerateJobPopRequest:
    fields: dict[str, Any] = {"apikey": key, "name": name, "models": [MODEL], "max_pixels": 1024 * 1024,
                              "bridge_agent": BRIDGE, "nsfw": True, "threads": 1, "amount": 1}
    fields.update(kwargs)
    return ImageGenerateJobPopRequest(**fields)


def image_request(key: str, *, r2: bool = True, n: int = 1, steps: int = 50, params: dict[str, Any] | None = None,
                  **kwargs: Any) -> ImageGenerateAsyncRequest:
    payload = ImageGenerationInputPayload(width=512, height=512, steps=steps, n=n, **(params or {}))
    return ImageGenerateAsyncRequest(apikey=key, prompt="a lighthouse at dusk ### fog", models=[MODEL], r2=r2,
                                     params=payload, **kwargs)


async def sdk_worker(manual: AIHordeAPIAsyncManualClient, http: aiohttp.ClientSession, key: str, name: str, *,
                     r2_bytes: bytes | None, b64: str | None = None, jobs: int = 1,
                     ready: asyncio.Event | None = None, expect_prompt: str = "a lighthouse at dusk ### fog",
                     ) -> list[tuple[Any, float]]:
    """Pop like reGen (through the SDK) until `jobs` jobs were served; upload or inline the result.

    `ready` is set after the first pop, when the horde knows the worker."""
    served: list[tuple[Any, float]] = []
    for _ in range(POLL_LIMIT):
        pop = await call(manual, pop_request(key, name), ImageGenerateJobPopResponse)
        if ready is not None:
            ready.set()
        if pop.id_ is None:
            assert pop.ids == [] and pop.model is None and pop.r2_upload is None
            await asyncio.sleep(0.02)
            continue
        assert pop.ids == [pop.id_]
        assert pop.model == MODEL
        assert pop.payload.ddim_steps == 50 and pop.payload.n_iter == 1
        assert pop.payload.width == 512 and pop.payload.height == 512
        assert pop.payload.seed is not None and pop.payload.seed.isdigit()
        assert pop.payload.prompt == expect_prompt
        assert pop.r2_upload and pop.r2_uploads == [pop.r2_upload]
        assert pop.ttl is not None and pop.ttl > 0
        if r2_bytes is not None:
            async with http.put(pop.r2_upload, data=r2_bytes, skip_auto_headers=["Content-Type"]) as put:
                assert put.status == 200, await put.text()
            generation = "R2"
        else:
            assert b64 is not None
            generation = b64
        submit = ImageGenerationJobSubmitRequest(apikey=key, id=pop.id_, generation=generation,
                                                 state=GENERATION_STATE.ok, seed=int(pop.payload.seed))
        reward = await call(manual, submit, JobSubmitResponse)
        served.append((pop, reward.reward))
        if len(served) == jobs:
            return served
    raise AssertionError(f"worker {name} found no job in {POLL_LIMIT} polls")


async def sdk_client(http: aiohttp.ClientSession, request: ImageGenerateAsyncRequest,
                     ) -> tuple[ImageGenerateAsyncResponse, list[ImageGenerateCheckResponse],
                                ImageGenerateStatusResponse]:
    """Request, poll `check` (no apikey, as the SDK sends it) until done, then fetch `status` once.

    Runs in an AIHordeAPIAsyncClientSession, which DELETEs the request on exit unless the final
    `status` showed it complete; the test then sees the request cancelled."""
    async with AIHordeAPIAsyncClientSession(http) as session:
        accepted = await call(session, request, ImageGenerateAsyncResponse)
        checks: list[ImageGenerateCheckResponse] = []
        for _ in range(POLL_LIMIT):
            check = await call(session, ImageGenerateCheckRequest(id=accepted.id_), ImageGenerateCheckResponse)
            checks.append(check)
            if check.done:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the request never finished")
        status = await call(session, ImageGenerateStatusRequest(id=accepted.id_), ImageGenerateStatusResponse)
        assert session._pending_follow_ups == [], "the SDK does not consider the request complete"
    return accepted, checks, status


@pytest.mark.parametrize("r2", [True, False], ids=["r2-url", "base64-webp"])
async def test_sdk_client_and_sdk_worker_round_trip(service: HordeService, sdk_server, http, manual, simple,
                                                    make_user, r2: bool) -> None:
    requester, rkey = await make_user("requester", kudos=100)
    owner, wkey = await make_user("gpu owner")
    picture = tiny_webp()
    request = image_request(rkey, r2=r2)

    ready = asyncio.Event()
    worker_task = asyncio.create_task(sdk_worker(
        manual, http, wkey, "SDK Worker One", r2_bytes=picture if r2 else None,
        b64=None if r2 else base64.b64encode(picture).decode(), ready=ready))
    await asyncio.wait_for(ready.wait(), 10)  # a worker is attached before the client asks
    client_task = asyncio.create_task(sdk_client(http, request))
    (accepted, checks, status), served = await asyncio.gather(client_task, worker_task)

    assert accepted.kudos == 13.0  # (10 for 512x512x50 + 3 tax) x 1
    assert not accepted.warnings
    (pop, reward), = served
    assert reward == 10.0

    first = checks[0]
    assert first.waiting + first.processing + first.finished == 1
    assert first.is_possible is True and first.faulted is False
    assert checks[-1].done and checks[-1].finished == 1
    assert checks[-1].waiting == 0 and checks[-1].processing == 0

    assert status.done and status.finished == 1 and status.faulted is False and status.kudos == 13.0
    assert status.shared is False
    (gen,) = status.generations
    assert str(gen.id_) == str(pop.id_)
    assert gen.seed == pop.payload.seed
    assert gen.state == GENERATION_STATE.ok and gen.censored is False
    assert gen.model == MODEL and gen.worker_name == "SDK Worker One"
    if r2:
        assert gen.img.startswith("http://127.0.0.1:")
    else:
        assert base64.b64decode(gen.img) == picture

    image, image_id = await simple.download_image_from_generation(gen)
    assert image_id == gen.id_
    assert image.size == (64, 64)
    assert image.convert("RGB").getpixel((5, 5)) == (200, 30, 60)

    # the worker's id in the generation is the worker the SDK can look up
    details = await call(manual, SingleWorkerDetailsRequest(worker_id=gen.worker_id), SingleWorkerDetailsResponse)
    assert details.name == "SDK Worker One" and details.requests_fulfilled == 1
    assert details.bridge_agent == BRIDGE

    who = await call(manual, FindUserRequest(apikey=rkey), UserDetailsResponse)
    assert who.kudos == 100 - 13
    who = await call(manual, FindUserRequest(apikey=wkey), UserDetailsResponse)
    assert who.kudos == 10
    assert who.worker_ids == [str(gen.worker_id)]


async def test_r2_upload_takes_arbitrary_bytes_like_the_sdk_round_trip(service: HordeService, sdk_server, http,
                                                                       manual, make_user) -> None:
    """horde-sdk's own round-trip test PUTs 786,432 bytes that are not an image: the PUT answers 200, as it
    expects. The submit then finds no image in them: each try is a failed generation (no reward), and once
    the request failed too often it is faulted and refunded. Bytes that are not an image are never served."""
    requester, rkey = await make_user("requester", kudos=100)
    _, wkey = await make_user("gpu")
    blob = bytes(range(256)) * 3072
    assert len(blob) == 786_432
    tries = service.config.core.max_job_faults + 1
    accepted = await call(manual, image_request(rkey, r2=True), ImageGenerateAsyncResponse)
    served = await sdk_worker(manual, http, wkey, "Raw Bytes Worker", r2_bytes=blob, jobs=tries)
    assert [reward for _, reward in served] == [0.0] * tries
    check = await call(manual, ImageGenerateCheckRequest(id=accepted.id_), ImageGenerateCheckResponse)
    assert check.done and check.faulted and check.finished == 0
    assert (await service.user_by_name(str(requester.id))).kudos == 100


async def test_dry_run_prices_without_queueing(service: HordeService, sdk_server, simple, manual,
                                               make_user) -> None:
    _, key = await make_user("pricer", kudos=5)
    request = image_request(key, n=2, dry_run=True)
    priced = await simple.image_generate_request_dry_run(request)
    assert isinstance(priced, ImageGenerateAsyncDryRunResponse)
    assert priced.kudos == 26.0  # (10 + 3) x 2, though the user holds only 5
    cheaper = await simple.image_generate_request_dry_run(image_request(key, n=1, steps=25, dry_run=True))
    assert cheaper.kudos == 8.0  # 5 + 3
    who = await call(manual, FindUserRequest(apikey=key), UserDetailsResponse)
    assert who.kudos == 5
    assert who.active_generations is not None and not who.active_generations.image
    perf = await call(manual, HordePerformanceRequest(), HordePerformanceResponse)
    assert perf.queued_requests == 0


async def test_heartbeat_and_news(sdk_server, simple, manual) -> None:
    beat = await simple.heartbeat_request()
    assert isinstance(beat, AIHordeHeartbeatResponse)
    assert beat.version and beat.version[0].isdigit()
    beat = await call(manual, AIHordeHeartbeatRequest(), AIHordeHeartbeatResponse)
    assert beat.version
    again = await call(manual, NewsRequest(), NewsResponse)
    assert again.root[0].newspiece
    news = await simple.get_news()
    assert isinstance(news, NewsResponse)
    assert len(news.root) >= 1
    assert news.root[0].date_published and news.root[0].newspiece


async def test_find_user_with_a_key_from_make_user(service: HordeService, sdk_server, manual, make_user) -> None:
    user, key = await make_user("finder", kudos=42)
    who = await call(manual, FindUserRequest(apikey=key), UserDetailsResponse)
    assert who.id_ == user.id
    assert who.username == f"finder#{user.id}"
    assert who.kudos == 42.0
    assert who.worker_count == 0 and who.worker_ids == []
    assert who.kudos_details is not None and who.kudos_details.awarded == 42
    anon = await call(manual, FindUserRequest(), UserDetailsResponse)  # the SDK's default key: anonymous
    assert anon.username is not None and anon.id_ != user.id
    unknown = await manual.submit_request(FindUserRequest(apikey="x" * 22), UserDetailsResponse)
    assert isinstance(unknown, RequestErrorResponse)
    assert unknown.rc == "UserNotFound"
    by_id = await call(manual, SingleUserDetailsRequest(user_id=str(user.id)), UserDetailsResponse)
    assert by_id.username == f"finder#{user.id}" and by_id.kudos == 42.0


async def test_models_status_performance_and_workers_after_a_pop(service: HordeService, sdk_server, http, manual,
                                                                 simple, make_user) -> None:
    owner, wkey = await make_user("gpu owner")
    _, rkey = await make_user("requester", kudos=100)
    empty = await call(manual, pop_request(wkey, "Status Worker", threads=2), ImageGenerateJobPopResponse)
    assert empty.id_ is None and empty.ids == []
    await call(manual, image_request(rkey), ImageGenerateAsyncResponse)  # one job waits for a model nobody serves
    await call(manual, ImageGenerateAsyncRequest(apikey=rkey, prompt="p", models=["Deliberate"]),
               ImageGenerateAsyncResponse)

    models = await call(manual, HordeStatusModelsAllRequest(), HordeStatusModelsAllResponse)
    by_name = {m.name: m for m in models.root}
    assert by_name[MODEL].type_ == MODEL_TYPE.image
    assert by_name[MODEL].count == 2  # threads
    assert by_name[MODEL].jobs == 1
    assert "Deliberate" in by_name and by_name["Deliberate"].count == 0 and by_name["Deliberate"].jobs == 1
    assert all(m.type_ == MODEL_TYPE.image for m in models.root)
    simple_models = await simple.image_status_models_all()
    assert {m.name for m in simple_models.root} == set(by_name)
    known = await call(manual, HordeStatusModelsAllRequest(model_state=MODEL_STATE.known),
                       HordeStatusModelsAllResponse)
    assert MODEL in {m.name for m in known.root}
    custom = await call(manual, HordeStatusModelsAllRequest(model_state=MODEL_STATE.custom),
                        HordeStatusModelsAllResponse)
    assert MODEL not in {m.name for m in custom.root}
    single = await call(manual, HordeStatusModelsSingleRequest(model_name=MODEL), HordeStatusModelsSingleResponse)
    assert [m.name for m in single.root] == [MODEL]

    perf = await call(manual, HordePerformanceRequest(), HordePerformanceResponse)
    assert perf.worker_count == 1 and perf.thread_count == 2
    assert perf.queued_requests == 2

    everyone = await call(manual, AllWorkersDetailsRequest(), AllWorkersDetailsResponse)
    assert [w.name for w in everyone.root] == ["Status Worker"]
    images = await call(manual, AllWorkersDetailsRequest(type=WORKER_TYPE.image), AllWorkersDetailsResponse)
    assert [w.name for w in images.root] == ["Status Worker"]
    texts = await call(manual, AllWorkersDetailsRequest(type=WORKER_TYPE.text), AllWorkersDetailsResponse)
    assert texts.root == []
    listed = everyone.root[0]
    assert listed.type_ == WORKER_TYPE.image and listed.maintenance_mode is False
    assert listed.bridge_agent == BRIDGE and listed.models == [MODEL] and listed.threads == 2
    assert listed.owner == f"gpu owner#{owner.id}"
    assert listed.online is True

    by_id = await call(manual, SingleWorkerDetailsRequest(worker_id=str(listed.id_)), SingleWorkerDetailsResponse)
    by_name_ = await call(manual, SingleWorkerNameDetailsRequest(worker_name="Status Worker"),
                          SingleWorkerDetailsResponse)
    assert str(by_id.id_) == str(by_name_.id_) == str(listed.id_)
    assert by_name_.name == "Status Worker" and by_id.max_pixels == 1024 * 1024
    missing = await manual.submit_request(SingleWorkerNameDetailsRequest(worker_name="Nobody Here"),
                                          SingleWorkerDetailsResponse)
    assert isinstance(missing, RequestErrorResponse) and missing.rc == "WorkerNotFound"


async def test_worker_maintenance_by_owner_and_not_by_others(service: HordeService, sdk_server, http, manual,
                                                             make_user) -> None:
    _, wkey = await make_user("owner")
    _, other_key = await make_user("stranger")
    _, rkey = await make_user("requester", kudos=100)
    await call(manual, pop_request(wkey, "Maint Worker"), ImageGenerateJobPopResponse)
    worker = await call(manual, SingleWorkerNameDetailsRequest(worker_name="Maint Worker"),
                        SingleWorkerDetailsResponse)
    worker_id = str(worker.id_)

    on = await call(manual, ModifyWorkerRequest(apikey=wkey, worker_id=worker_id, maintenance=True,
                                                info="back soon"), ModifyWorkerResponse)
    assert on.maintenance is True and on.info == "back soon"
    after = await call(manual, SingleWorkerDetailsRequest(worker_id=worker_id), SingleWorkerDetailsResponse)
    assert after.maintenance_mode is True and after.info == "back soon"

    # in maintenance the worker gets nothing, though a job waits for it
    await call(manual, image_request(rkey), ImageGenerateAsyncResponse)
    idle = await call(manual, pop_request(wkey, "Maint Worker"), ImageGenerateJobPopResponse)
    assert idle.id_ is None and idle.ids == []

    url = sdk_server.make_url(f"/api/v2/workers/{worker_id}")
    async with http.put(url, headers={"apikey": other_key}, json={"maintenance": False}) as r:
        assert r.status == 403
        body = await r.json()
        assert body["rc"] == "NotOwner" and body["message"]
    refused = await manual.submit_request(ModifyWorkerRequest(apikey=other_key, worker_id=worker_id,
                                                              maintenance=False), ModifyWorkerResponse)
    assert isinstance(refused, RequestErrorResponse) and refused.rc == "NotOwner"
    still = await call(manual, SingleWorkerDetailsRequest(worker_id=worker_id), SingleWorkerDetailsResponse)
    assert still.maintenance_mode is True

    off = await call(manual, ModifyWorkerRequest(apikey=wkey, worker_id=worker_id, maintenance=False),
                     ModifyWorkerResponse)
    assert off.maintenance is False
    served = await call(manual, pop_request(wkey, "Maint Worker"), ImageGenerateJobPopResponse)
    assert served.id_ is not None


async def test_image_stats_after_a_served_request(service: HordeService, sdk_server, http, manual, simple,
                                                  make_user) -> None:
    _, rkey = await make_user("requester", kudos=100)
    _, wkey = await make_user("gpu")
    empty = await call(manual, ImageStatsModelsTotalRequest(), ImageStatsModelsTotalResponse)
    assert empty.total is not None and empty.total.images == 0 and empty.total.ps == 0

    await asyncio.gather(sdk_client(http, image_request(rkey)),
                         sdk_worker(manual, http, wkey, "Stats Worker", r2_bytes=tiny_webp()))

    stats = await call(manual, ImageStatsModelsRequest(model_state=MODEL_STATE.all), ImageStatsModelsResponse)
    assert stats.total == {MODEL: 1} and stats.day == {MODEL: 1} and stats.month == {MODEL: 1}
    known = await simple.image_stats_models(MODEL_STATE.known)
    assert known.total == {MODEL: 1}
    custom = await simple.image_stats_models(MODEL_STATE.custom)
    assert custom.total == {}
    totals = await simple.image_stats_totals()
    assert isinstance(totals, ImageStatsModelsTotalResponse)
    for period in (totals.minute, totals.hour, totals.day, totals.month, totals.total):
        assert period is not None
        assert period.images == 1
        assert period.ps == 13  # round(512*512*50 / 1e6)


async def test_kudos_transfer(service: HordeService, sdk_server, manual, make_user) -> None:
    alice, akey = await make_user("alice", kudos=50)
    bob, bkey = await make_user("bob")
    sent = await call(manual, KudosTransferRequest(apikey=akey, username=f"bob#{bob.id}", amount=20),
                      KudosTransferResponse)
    assert sent.transferred == 20
    a = await call(manual, FindUserRequest(apikey=akey), UserDetailsResponse)
    b = await call(manual, FindUserRequest(apikey=bkey), UserDetailsResponse)
    assert (a.kudos, b.kudos) == (30, 20)
    assert a.kudos_details is not None and a.kudos_details.gifted == 20
    assert b.kudos_details is not None and b.kudos_details.received == 20
    too_much = await manual.submit_request(KudosTransferRequest(apikey=akey, username=f"bob#{bob.id}", amount=31),
                                           KudosTransferResponse)
    assert isinstance(too_much, RequestErrorResponse) and too_much.rc == "KudosValidationError"
    a = await call(manual, FindUserRequest(apikey=akey), UserDetailsResponse)
    assert a.kudos == 30


async def test_cancel_a_pending_request_through_the_sdk(service: HordeService, sdk_server, http, manual,
                                                        make_user) -> None:
    _, rkey = await make_user("requester", kudos=100)
    accepted = await call(manual, image_request(rkey, n=2), ImageGenerateAsyncResponse)
    who = await call(manual, FindUserRequest(apikey=rkey), UserDetailsResponse)
    assert who.kudos == 100 - 26
    assert who.active_generations is not None and [str(i) for i in who.active_generations.image or []] == [
        str(accepted.id_)]

    cancelled = await manual.delete_pending_image(accepted.id_)
    assert isinstance(cancelled, ImageGenerateStatusResponse)
    assert cancelled.generations == [] and cancelled.waiting == 0 and cancelled.finished == 0
    assert cancelled.done is True

    who = await call(manual, FindUserRequest(apikey=rkey), UserDetailsResponse)
    assert who.kudos == 100
    assert not (who.active_generations and who.active_generations.image)
    _, wkey = await make_user("gpu")
    pop = await call(manual, pop_request(wkey, "Late Worker"), ImageGenerateJobPopResponse)
    assert pop.id_ is None

    after = await manual.get_generate_check(accepted.id_)  # a cancelled request still answers
    assert isinstance(after, ImageGenerateCheckResponse) and after.done is True and after.waiting == 0
    unknown = await manual.submit_request(ImageGenerateCheckRequest(id=str(uuid.uuid4())),
                                          ImageGenerateCheckResponse)
    assert isinstance(unknown, RequestErrorResponse) and unknown.rc == "RequestNotFound"


async def test_session_deletes_its_request_when_the_client_gives_up(service: HordeService, sdk_server, http,
                                                                    manual, make_user) -> None:
    """AIHordeAPIAsyncClientSession sends DELETE (without apikey) for an unfinished request on exit."""
    _, rkey = await make_user("requester", kudos=100)
    async with AIHordeAPIAsyncClientSession(http) as session:
        accepted = await call(session, image_request(rkey), ImageGenerateAsyncResponse)
    check = await manual.get_generate_check(accepted.id_)
    assert isinstance(check, ImageGenerateCheckResponse)
    assert check.waiting == 0 and check.done is True
    who = await call(manual, FindUserRequest(apikey=rkey), UserDetailsResponse)
    assert who.kudos == 100


async def test_batch_pop_uploads_match_ids_after_the_sdk_sorts_them(service: HordeService, sdk_server, http,
                                                                    manual, simple, make_user) -> None:
    """The SDK sorts `ids` and `r2_uploads` separately; each URL must still belong to the id at its index."""
    _, rkey = await make_user("requester", kudos=200)
    _, wkey = await make_user("gpu")
    accepted = await call(manual, image_request(rkey, n=3, params={"seed": "77", "seed_variation": 5}),
                          ImageGenerateAsyncResponse)
    pop = await call(manual, pop_request(wkey, "Batch Worker", amount=3), ImageGenerateJobPopResponse)
    assert len(pop.ids) == 3 and pop.r2_uploads is not None and len(pop.r2_uploads) == 3
    assert pop.payload.n_iter == 3 and pop.payload.seed in {"77", "82", "87"}
    assert [str(i) for i in pop.ids] == sorted(str(i) for i in pop.ids)
    colours, seeds = {}, {}
    for index, (job_id, url) in enumerate(zip(pop.ids, pop.r2_uploads, strict=True)):
        colours[str(job_id)] = (index * 80, 255 - index * 80, 7)
        seeds[str(job_id)] = 1000 + index
        async with http.put(url, data=tiny_webp(colours[str(job_id)])) as put:
            assert put.status == 200
        await call(manual, ImageGenerationJobSubmitRequest(apikey=wkey, id=job_id, generation="R2",
                                                           state=GENERATION_STATE.ok, seed=1000 + index),
                   JobSubmitResponse)
    status = await manual.get_generate_status(accepted.id_)
    assert isinstance(status, ImageGenerateStatusResponse) and status.done and status.finished == 3
    assert {str(g.id_) for g in status.generations} == set(colours)
    for gen in status.generations:
        image, _ = await simple.download_image_from_generation(gen)
        assert image.convert("RGB").getpixel((1, 1)) == colours[str(gen.id_)], f"upload URL of {gen.id_} mixed up"
        assert gen.seed == str(seeds[str(gen.id_)])


async def test_sdk_worker_session_reports_a_failed_job_and_it_is_served_again(service: HordeService, sdk_server,
                                                                              http, manual, make_user) -> None:
    """On an exception, the SDK's session submits `state: faulted, generation: "Faulted"` for what it popped."""
    _, rkey = await make_user("requester", kudos=100)
    _, wkey = await make_user("gpu")
    accepted = await call(manual, image_request(rkey), ImageGenerateAsyncResponse)

    class Crash(Exception):
        pass

    popped: list[Any] = []
    with pytest.raises(Crash):
        async with AIHordeAPIAsyncClientSession(http, apikey=wkey) as worker_session:
            pop = await call(worker_session, pop_request(wkey, "Crashy Worker"), ImageGenerateJobPopResponse)
            popped.append(pop)
            raise Crash
    assert popped[0].id_ is not None
    check = await manual.get_generate_check(accepted.id_)
    assert isinstance(check, ImageGenerateCheckResponse)
    assert check.waiting == 1 and check.processing == 0 and check.restarted == 1 and not check.faulted
    again = await call(manual, pop_request(wkey, "Crashy Worker"), ImageGenerateJobPopResponse)
    assert again.id_ is not None and again.id_ != popped[0].id_  # a new id: reGen counts faults per id


async def test_censored_and_csam_results_parse_and_show_as_censored(service: HordeService, sdk_server, http,
                                                                    manual, make_user) -> None:
    """A worker reports its own image check through gen_metadata; clients only ever see ok or censored."""
    _, rkey = await make_user("requester", kudos=100)
    _, wkey = await make_user("gpu")
    accepted = await call(manual, image_request(rkey, n=2), ImageGenerateAsyncResponse)
    pop = await call(manual, pop_request(wkey, "Safety Worker", amount=2), ImageGenerateJobPopResponse)
    assert len(pop.ids) == 2
    nsfw_id, csam_id = pop.ids
    meta = [{"type": "censorship", "value": "nsfw"}]
    await call(manual, ImageGenerationJobSubmitRequest.model_validate(
        {"apikey": wkey, "id": str(nsfw_id), "generation": tiny_webp_b64(), "state": "censored", "seed": 1,
         "censored": True, "gen_metadata": meta}), JobSubmitResponse)
    csam = await call(manual, ImageGenerationJobSubmitRequest.model_validate(
        {"apikey": wkey, "id": str(csam_id), "generation": tiny_webp_b64(), "state": "ok", "seed": 2,
         "gen_metadata": [{"type": "censorship", "value": "csam"}]}), JobSubmitResponse)
    assert csam.reward == 0
    status = await manual.get_generate_status(accepted.id_)
    assert isinstance(status, ImageGenerateStatusResponse)
    assert status.done and status.finished == 2
    states = {str(g.id_): (g.state, g.censored) for g in status.generations}
    assert states == {str(nsfw_id): (GENERATION_STATE.censored, True),
                      str(csam_id): (GENERATION_STATE.censored, True)}


def tiny_webp_b64() -> str:
    return base64.b64encode(tiny_webp()).decode()


async def test_check_is_one_consistent_snapshot(service: HordeService, sdk_server, manual, make_user,
                                                monkeypatch) -> None:
    """A check racing a submit must report one moment: never `done` with the kudos still unspent.

    The submit is made to land between the check's read of the request row and its count of jobs."""
    _, rkey = await make_user("requester", kudos=100)
    _, wkey = await make_user("gpu")
    accepted = await call(manual, image_request(rkey), ImageGenerateAsyncResponse)
    pop = await call(manual, pop_request(wkey, "Snapshot Worker"), ImageGenerateJobPopResponse)
    assert pop.id_ is not None
    real_counts = lifecycle.job_counts
    submitted: list[float] = []

    async def counts_after_a_submit(conn: Any, request_id: str) -> dict[str, int]:
        if not submitted:
            reward = await call(manual, ImageGenerationJobSubmitRequest(
                apikey=wkey, id=pop.id_, generation=tiny_webp_b64(), state=GENERATION_STATE.ok, seed=3),
                JobSubmitResponse)
            submitted.append(reward.reward)
        return await real_counts(conn, request_id)

    monkeypatch.setattr(lifecycle, "job_counts", counts_after_a_submit)
    check = await manual.get_generate_check(accepted.id_)
    assert submitted == [10.0]
    assert isinstance(check, ImageGenerateCheckResponse)
    assert (check.done, check.finished, check.kudos) in {(False, 0, 0.0), (True, 1, 13.0)}, check


async def test_workers_list_filtered_by_name_query(service: HordeService, sdk_server, manual, simple,
                                                   make_user) -> None:
    """horde-sdk's `workers_all_details(worker_name)` sends `?name=` (an exact, case-insensitive match)."""
    _, wkey = await make_user("gpu")
    for name in ("Alpha Worker", "Beta Worker", "Gamma Worker"):
        await call(manual, pop_request(wkey, name), ImageGenerateJobPopResponse)
    found = await simple.workers_all_details(worker_name="beta WORKER")
    assert isinstance(found, AllWorkersDetailsResponse)
    assert [w.name for w in found.root] == ["Beta Worker"]
    everyone = await simple.workers_all_details()
    assert sorted(w.name for w in everyone.root) == ["Alpha Worker", "Beta Worker", "Gamma Worker"]
    nobody = await call(manual, AllWorkersDetailsRequest(name="Delta Worker"), AllWorkersDetailsResponse)
    assert nobody.root == []


async def test_rich_request_pops_as_a_strict_sdk_payload(service: HordeService, sdk_server, manual,
                                                         make_user) -> None:
    """Every optional parameter a client may send comes back in a pop the SDK parses with extra=forbid."""
    _, rkey = await make_user("requester", kudos=500)
    _, wkey = await make_user("gpu")
    png = io.BytesIO()
    Image.new("RGBA", (512, 512), (0, 0, 0, 0)).save(png, format="PNG")
    source = base64.b64encode(png.getvalue()).decode()
    body = {
        "apikey": rkey, "prompt": "a castle ### blurry", "models": [MODEL], "r2": True, "nsfw": False,
        "censor_nsfw": True, "source_image": source, "source_processing": "inpainting", "source_mask": source,
        "params": {"width": 512, "height": 512, "steps": 20, "n": 1, "seed": "abc", "seed_variation": 3,
                   "sampler_name": "k_dpmpp_2m", "cfg_scale": 6.5, "karras": False, "tiling": True,
                   "hires_fix": True, "hires_fix_denoising_strength": 0.4, "clip_skip": 2,
                   "post_processing": ["GFPGAN", "RealESRGAN_x4plus"], "facefixer_strength": 0.6,
                   "denoising_strength": 0.7, "transparent": False,
                   "loras": [{"name": "1234", "model": 0.8, "clip": 0.9, "inject_trigger": "any",
                              "is_version": True}],
                   "tis": [{"name": "7808", "inject_ti": "negprompt", "strength": 0.5}]},
    }
    request = ImageGenerateAsyncRequest.model_validate(body)
    await call(manual, request, ImageGenerateAsyncResponse)
    pop = await call(manual, pop_request(wkey, "Rich Worker", allow_lora=True, allow_painting=True,
                                         allow_post_processing=True, nsfw=False), ImageGenerateJobPopResponse)
    assert pop.id_ is not None, pop.skipped
    p = pop.payload
    assert (p.ddim_steps, p.sampler_name, p.cfg_scale, p.karras, p.tiling, p.hires_fix, p.clip_skip) == (
        20, "k_dpmpp_2m", 6.5, False, True, True, 2)
    assert p.seed is not None and p.seed.isdigit() and p.seed_variation == 3
    assert p.hires_fix_denoising_strength == 0.4 and p.facefixer_strength == 0.6 and p.denoising_strength == 0.7
    assert [str(x) for x in p.post_processing] == ["GFPGAN", "RealESRGAN_x4plus"]
    assert p.loras is not None and p.loras[0].name == "1234" and p.loras[0].is_version is True
    assert p.tis is not None and p.tis[0].inject_ti == "negprompt"
    assert p.use_nsfw_censor is True
    assert p.prompt == "a castle ### blurry"
    assert str(pop.source_processing) == "inpainting"
    assert pop.source_image and pop.source_mask


async def test_anonymous_sdk_request_is_shared_and_served(service: HordeService, sdk_server, http, manual,
                                                          make_user) -> None:
    """No apikey: the SDK sends the anonymous key 0000000000; anonymous requests are always shared."""
    _, wkey = await make_user("gpu")
    request = ImageGenerateAsyncRequest(prompt="anon", models=[], params=ImageGenerationInputPayload(steps=50))
    ready = asyncio.Event()
    worker = asyncio.create_task(sdk_worker(manual, http, wkey, "Anon Serving Worker", r2_bytes=tiny_webp(),
                                            ready=ready, expect_prompt="anon"))
    await asyncio.wait_for(ready.wait(), 10)
    (accepted, _, status), served = await asyncio.gather(sdk_client(http, request), worker)
    assert accepted.kudos == 11.0  # 10 + the shared tax of 1
    assert status.shared is True and status.finished == 1
    assert served[0][1] == 10.0
