"""Contract tests: horde-sdk 0.18.0 in strict mode (TESTS_ONGOING=1, extra=forbid) for text and interrogation.

Every response is parsed by the SDK's own pydantic models, as in test_sdk_image.py: a field we add, drop
or mistype makes the SDK hand back a `RequestErrorResponse`, and the test fails. The client side and the
worker (or alchemist) side run as two asyncio tasks in one loop over real HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import io
import uuid
from typing import Any

import aiohttp
from horde_sdk.ai_horde_api.ai_horde_clients import (
    AIHordeAPIAsyncClientSession,
    AIHordeAPIAsyncManualClient,
)
from horde_sdk.ai_horde_api.apimodels import (
    AlchemyAsyncRequest,
    AlchemyAsyncRequestFormItem,
    AlchemyAsyncResponse,
    AlchemyCaptionResult,
    AlchemyDeleteRequest,
    AlchemyJobSubmitRequest,
    AlchemyJobSubmitResponse,
    AlchemyNSFWResult,
    AlchemyPopRequest,
    AlchemyPopResponse,
    AlchemyStatusRequest,
    AlchemyStatusResponse,
    AllWorkersDetailsRequest,
    AllWorkersDetailsResponse,
    DeleteTextGenerateRequest,
    FindUserRequest,
    HordeStatusModelsAllRequest,
    HordeStatusModelsAllResponse,
    HordeStatusModelsSingleRequest,
    HordeStatusModelsSingleResponse,
    ModelGenerationInputKobold,
    SingleWorkerDetailsRequest,
    SingleWorkerDetailsResponse,
    TextGenerateAsyncDryRunResponse,
    TextGenerateAsyncRequest,
    TextGenerateAsyncResponse,
    TextGenerateJobPopRequest,
    TextGenerateJobPopResponse,
    TextGenerateStatusRequest,
    TextGenerateStatusResponse,
    TextGenerationJobSubmitRequest,
    TextStatsModelResponse,
    TextStatsModelsRequest,
    TextStatsModelsTotalRequest,
    TextStatsModelsTotalResponse,
    UserDetailsResponse,
)
from horde_sdk.ai_horde_api.apimodels.base import JobSubmitResponse
from horde_sdk.ai_horde_api.consts import GENERATION_STATE, KNOWN_ALCHEMY_TYPES, MODEL_STATE, MODEL_TYPE, WORKER_TYPE
from horde_sdk.generic_api.apimodels import RequestErrorResponse
from PIL import Image

from horde_core.ledger import pricing
from horde_core.service import HordeService
from tests.contract.sdk import call
from tests.contract.sdk import tiny_webp as _tiny_webp
from tests.helpers import assert_books_balance

TEXT_MODEL = "koboldcpp/LLaMA2-13B-Tiefighter"
KOBOLD_BRIDGE = "KoboldAI Bridge:10:https://github.com/db0/KoboldAI-Horde-Bridge"
PROMPT = "Once upon a time"
SOFTPROMPT = "fantasy-sp"
POLL_LIMIT = 400  # x 0.02 s: a bound on every wait for the other task, never a timing assumption

FORMS = [KNOWN_ALCHEMY_TYPES.caption, KNOWN_ALCHEMY_TYPES.nsfw]
PIXEL = (200, 30, 60)


def tiny_webp(color: tuple[int, int, int] = PIXEL, size: tuple[int, int] = (96, 64)) -> bytes:
    return _tiny_webp(color, size)












async def raw_json(http: aiohttp.ClientSession, method: str, url: Any, *, status: int = 200, **kwargs: Any) -> Any:
    async with http.request(method, url, **kwargs) as r:
        body = await r.json()
        assert r.status == status, (r.status, body)
        return body


# --- text ---------------------------------------------------------------------------------------------------

def text_request(key: str, *, max_length: int = 120, max_context_length: int = 2048, n: int = 1,
                 **kwargs: Any) -> TextGenerateAsyncRequest:
    params = ModelGenerationInputKobold(max_length=max_length, max_context_length=max_context_length, n=n,
                                        temperature=0.7, top_p=0.9, stop_sequence=["\n\n"])
    return TextGenerateAsyncRequest(apikey=key, prompt=PROMPT, models=[TEXT_MODEL], params=params, **kwargs)


def text_pop_request(key: str, name: str, **kwargs: Any) -> TextGenerateJobPopRequest:
    fields: dict[str, Any] = {"apikey": key, "name": name, "models": [TEXT_MODEL], "max_length": 512,
                              "max_context_length": 4096, "softprompts": [SOFTPROMPT], "bridge_agent": KOBOLD_BRIDGE,
                              "nsfw": True, "threads": 1, "amount": 1}
    fields.update(kwargs)
    return TextGenerateJobPopRequest(**fields)


async def sdk_text_worker(manual: AIHordeAPIAsyncManualClient, key: str, name: str, *,
                          ready: asyncio.Event | None = None, may_submit: asyncio.Event | None = None,
                          jobs: int = 1) -> list[tuple[TextGenerateJobPopResponse, str, float]]:
    """Pop like the KoboldAI bridge (through the SDK) until `jobs` jobs were served.

    `ready` is set after the first pop (the horde knows the worker); a popped job is submitted only
    once `may_submit` is set, so the client can look at it while it is in flight."""
    served: list[tuple[TextGenerateJobPopResponse, str, float]] = []
    for _ in range(POLL_LIMIT):
        pop = await call(manual, text_pop_request(key, name), TextGenerateJobPopResponse)
        if ready is not None:
            ready.set()
        if pop.id_ is None:
            assert pop.ids == [] and pop.model is None and pop.softprompt is None
            await asyncio.sleep(0.02)
            continue
        assert pop.ids == [pop.id_] and pop.model == TEXT_MODEL
        assert pop.ttl is not None and pop.ttl > 0
        assert pop.payload.prompt == PROMPT
        if may_submit is not None:
            await asyncio.wait_for(may_submit.wait(), 10)
        text = f" there was a dragon {str(pop.id_)[:8]}"
        submit = TextGenerationJobSubmitRequest(apikey=key, id=pop.id_, generation=text, state=GENERATION_STATE.ok)
        reward = await call(manual, submit, JobSubmitResponse)
        served.append((pop, text, reward.reward))
        if len(served) == jobs:
            return served
    raise AssertionError(f"text worker {name} found no job in {POLL_LIMIT} polls")


async def sdk_text_client(http: aiohttp.ClientSession, manual: AIHordeAPIAsyncManualClient,
                          request: TextGenerateAsyncRequest, *, seen: asyncio.Event | None = None,
                          ) -> tuple[TextGenerateAsyncResponse, UserDetailsResponse, list[TextGenerateStatusResponse]]:
    """Request, look at find_user while it is active, then poll `status` (no apikey) until done.

    Runs in an AIHordeAPIAsyncClientSession, which DELETEs the request on exit unless a `status`
    showed it complete."""
    async with AIHordeAPIAsyncClientSession(http) as session:
        accepted = await call(session, request, TextGenerateAsyncResponse)
        assert request.apikey is not None
        who = await call(manual, FindUserRequest(apikey=request.apikey), UserDetailsResponse)
        if seen is not None:
            seen.set()
        statuses: list[TextGenerateStatusResponse] = []
        for _ in range(POLL_LIMIT):
            status = await call(session, TextGenerateStatusRequest(id=accepted.id_), TextGenerateStatusResponse)
            statuses.append(status)
            if status.done:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the text request never finished")
        assert session._pending_follow_ups == [], "the SDK does not consider the request complete"
    return accepted, who, statuses


async def test_sdk_text_client_and_sdk_worker_round_trip(service: HordeService, sdk_server, http, manual,
                                                         make_user) -> None:
    _, rkey = await make_user("writer", kudos=200)
    owner, wkey = await make_user("kobold owner")
    cost = pricing.text_job_cost(120, 2048)
    request = text_request(rkey)

    ready, seen = asyncio.Event(), asyncio.Event()
    worker = asyncio.create_task(sdk_text_worker(manual, wkey, "Kobold Box One", ready=ready, may_submit=seen))
    await asyncio.wait_for(ready.wait(), 10)  # a worker is attached before the client asks
    (accepted, who, statuses), served = await asyncio.gather(
        sdk_text_client(http, manual, request, seen=seen), worker)

    assert accepted.kudos == float(cost + 3) and not accepted.warnings
    # find_user, while the worker holds the job unsubmitted, lists it as an active text generation
    assert who.kudos == 200 - (cost + 3)
    assert who.active_generations is not None
    assert [str(i) for i in who.active_generations.text or []] == [str(accepted.id_)]
    assert not who.active_generations.image and not who.active_generations.alchemy

    (pop, text, reward), = served
    assert reward == float(cost)
    p = pop.payload
    assert (p.max_length, p.max_context_length, p.n) == (120, 2048, 1)
    assert p.temperature == 0.7 and p.top_p == 0.9 and p.stop_sequence == ["\n\n"]
    assert pop.softprompt is None  # the worker offers softprompts; this request asked for none
    assert pop.skipped.is_empty()

    first, last = statuses[0], statuses[-1]
    assert first.waiting + first.processing + first.finished == 1
    assert first.is_possible is True and first.faulted is False
    assert last.done and last.finished == 1 and last.waiting == 0 and last.processing == 0
    assert last.faulted is False and last.kudos == float(cost + 3)
    (gen,) = last.generations
    assert gen.text == text and gen.model == TEXT_MODEL and gen.state == GENERATION_STATE.ok
    assert isinstance(gen.seed, int) and gen.id_ is None
    assert gen.worker_name == "Kobold Box One"

    details = await call(manual, SingleWorkerDetailsRequest(worker_id=gen.worker_id), SingleWorkerDetailsResponse)
    assert details.type_ == WORKER_TYPE.text and details.name == "Kobold Box One"
    assert details.requests_fulfilled == 1 and details.bridge_agent == KOBOLD_BRIDGE
    assert details.max_length == 512 and details.max_context_length == 4096
    assert details.owner == f"kobold owner#{owner.id}"

    who = await call(manual, FindUserRequest(apikey=rkey), UserDetailsResponse)
    assert who.kudos == 200 - (cost + 3)
    assert who.active_generations is not None and not who.active_generations.text
    mine = await call(manual, FindUserRequest(apikey=wkey), UserDetailsResponse)
    assert mine.kudos == cost and mine.worker_ids == [str(gen.worker_id)]
    await assert_books_balance(service)


async def test_softprompt_request_goes_to_a_worker_that_has_it(service: HordeService, sdk_server, manual,
                                                                make_user) -> None:
    _, rkey = await make_user("writer", kudos=100)
    _, wkey = await make_user("kobold")
    accepted = await call(manual, text_request(rkey, softprompt=SOFTPROMPT), TextGenerateAsyncResponse)
    without = await call(manual, text_pop_request(wkey, "Plain Kobold", softprompts=[]), TextGenerateJobPopResponse)
    assert without.id_ is None and without.skipped.matching_softprompt == 1
    pop = await call(manual, text_pop_request(wkey, "Softprompt Kobold"), TextGenerateJobPopResponse)
    assert pop.id_ is not None and pop.softprompt == SOFTPROMPT and pop.model == TEXT_MODEL
    await call(manual, TextGenerationJobSubmitRequest(apikey=wkey, id=pop.id_, generation="ok",
                                                      state=GENERATION_STATE.ok), JobSubmitResponse)
    status = await call(manual, TextGenerateStatusRequest(id=accepted.id_), TextGenerateStatusResponse)
    assert status.done and [g.worker_name for g in status.generations] == ["Softprompt Kobold"]


async def test_softprompt_request_is_possible_while_a_matching_worker_is_online(service: HordeService, sdk_server,
                                                                                 manual, make_user) -> None:
    _, rkey = await make_user("writer", kudos=100)
    _, wkey = await make_user("kobold")
    idle = await call(manual, text_pop_request(wkey, "Softprompt Kobold"), TextGenerateJobPopResponse)
    assert idle.id_ is None
    accepted = await call(manual, text_request(rkey, softprompt=SOFTPROMPT), TextGenerateAsyncResponse)
    status = await call(manual, TextGenerateStatusRequest(id=accepted.id_), TextGenerateStatusResponse)
    assert status.waiting == 1
    assert status.is_possible is True


async def test_unknown_client_params_do_not_reach_a_strict_worker(service: HordeService, sdk_server, http,
                                                                   manual, make_user) -> None:
    """Clients in the wild send params the horde does not know; they are ignored, and the pop stays strict."""
    _, rkey = await make_user("writer", kudos=100)
    _, wkey = await make_user("kobold")
    body = {"prompt": PROMPT, "models": [TEXT_MODEL],
            "params": {"max_length": 80, "max_context_length": 1024, "temperature": 0.5, "min_p": 0.1,
                       "dynatemp_range": 0.5, "smoothing_factor": 0.2, "singleline": True,
                       "use_default_badwordsids": False, "quiet": True, "sampler_seed": 12,
                       "use_world_info": False, "genkey": "KCPP1234"}}
    accepted = await raw_json(http, "POST", sdk_server.make_url("/api/v2/generate/text/async"),
                              headers={"apikey": rkey}, json=body, status=202)
    TextGenerateAsyncResponse.model_validate(accepted)
    pop = await call(manual, text_pop_request(wkey, "Strict Kobold"), TextGenerateJobPopResponse)
    assert pop.id_ is not None
    p = pop.payload
    assert (p.max_length, p.max_context_length, p.temperature, p.min_p) == (80, 1024, 0.5, 0.1)
    assert (p.dynatemp_range, p.smoothing_factor, p.singleline, p.use_default_badwordsids) == (0.5, 0.2, True, False)


async def test_text_batch_pop_serves_every_job_of_a_request(service: HordeService, sdk_server, manual,
                                                             make_user) -> None:
    _, rkey = await make_user("writer", kudos=200)
    _, wkey = await make_user("kobold")
    accepted = await call(manual, text_request(rkey, n=3), TextGenerateAsyncResponse)
    pop = await call(manual, text_pop_request(wkey, "Batch Kobold", amount=3), TextGenerateJobPopResponse)
    assert len(pop.ids) == 3 and pop.payload.n == 3 and pop.id_ in pop.ids
    texts = {}
    for job_id in pop.ids:
        texts[str(job_id)] = f"story {str(job_id)[:6]}"
        await call(manual, TextGenerationJobSubmitRequest(apikey=wkey, id=job_id, generation=texts[str(job_id)],
                                                          state=GENERATION_STATE.ok), JobSubmitResponse)
    status = await call(manual, TextGenerateStatusRequest(id=accepted.id_), TextGenerateStatusResponse)
    assert status.done and status.finished == 3
    assert sorted(g.text or "" for g in status.generations) == sorted(texts.values())
    twice = await manual.submit_request(TextGenerationJobSubmitRequest(
        apikey=wkey, id=pop.ids[0], generation="again", state=GENERATION_STATE.ok), JobSubmitResponse)
    assert isinstance(twice, RequestErrorResponse) and twice.rc == "DuplicateGen"


async def test_text_dry_run_prices_without_queueing(service: HordeService, sdk_server, http, manual, simple,
                                                    make_user) -> None:
    _, key = await make_user("pricer", kudos=5)
    priced = await simple.text_generate_request_dry_run(text_request(key, n=2, max_context_length=4096,
                                                                     dry_run=True))
    assert isinstance(priced, TextGenerateAsyncDryRunResponse)
    assert priced.kudos == float((pricing.text_job_cost(120, 4096) + 3) * 2)  # more than the user holds
    raw = await raw_json(http, "POST", sdk_server.make_url("/api/v2/generate/text/async"), headers={"apikey": key},
                         json={"prompt": "x", "dry_run": True, "params": {"max_length": 80}})
    assert TextGenerateAsyncDryRunResponse.model_validate(raw).kudos == float(pricing.text_job_cost(80, 1024) + 3)
    who = await call(manual, FindUserRequest(apikey=key), UserDetailsResponse)
    assert who.kudos == 5
    assert who.active_generations is not None and not who.active_generations.text
    _, wkey = await make_user("kobold")
    idle = await call(manual, text_pop_request(wkey, "Idle Kobold"), TextGenerateJobPopResponse)
    assert idle.id_ is None and idle.ids == []


async def test_cancel_a_pending_text_request_through_the_sdk(service: HordeService, sdk_server, http, manual,
                                                             make_user) -> None:
    _, rkey = await make_user("writer", kudos=100)
    cost = pricing.text_job_cost(120, 2048)
    accepted = await call(manual, text_request(rkey, n=2), TextGenerateAsyncResponse)
    assert accepted.kudos == float((cost + 3) * 2)
    who = await call(manual, FindUserRequest(apikey=rkey), UserDetailsResponse)
    assert who.kudos == 100 - (cost + 3) * 2
    assert who.active_generations is not None
    assert [str(i) for i in who.active_generations.text or []] == [str(accepted.id_)]

    cancelled = await call(manual, DeleteTextGenerateRequest(id=accepted.id_), TextGenerateStatusResponse)
    assert cancelled.generations == [] and cancelled.waiting == 0 and cancelled.processing == 0
    assert cancelled.finished == 0 and cancelled.done is True

    who = await call(manual, FindUserRequest(apikey=rkey), UserDetailsResponse)
    assert who.kudos == 100
    assert who.active_generations is not None and not who.active_generations.text
    _, wkey = await make_user("kobold")
    late = await call(manual, text_pop_request(wkey, "Late Kobold"), TextGenerateJobPopResponse)
    assert late.id_ is None and late.ids == []
    after = await call(manual, TextGenerateStatusRequest(id=accepted.id_), TextGenerateStatusResponse)
    assert after.done is True and after.waiting == 0

    # the session cleans up after itself the same way when the client gives up
    async with AIHordeAPIAsyncClientSession(http) as session:
        dropped = await call(session, text_request(rkey), TextGenerateAsyncResponse)
    gone = await call(manual, TextGenerateStatusRequest(id=dropped.id_), TextGenerateStatusResponse)
    assert gone.done is True and gone.waiting == 0
    who = await call(manual, FindUserRequest(apikey=rkey), UserDetailsResponse)
    assert who.kudos == 100
    unknown = await manual.submit_request(TextGenerateStatusRequest(id=str(uuid.uuid4())),
                                          TextGenerateStatusResponse)
    assert isinstance(unknown, RequestErrorResponse) and unknown.rc == "RequestNotFound"
    await assert_books_balance(service)


async def test_text_pop_reports_skipped_counts(service: HordeService, sdk_server, manual, make_user) -> None:
    _, rkey = await make_user("writer", kudos=500)
    _, wkey = await make_user("kobold")
    await call(manual, text_request(rkey, max_context_length=4096), TextGenerateAsyncResponse)
    await call(manual, text_request(rkey, max_context_length=4096, n=2), TextGenerateAsyncResponse)

    small = await call(manual, text_pop_request(wkey, "Small Kobold", max_context_length=2048),
                       TextGenerateJobPopResponse)
    assert small.id_ is None and small.ids == [] and small.model is None and small.softprompt is None
    assert small.skipped.max_context_length == 2  # per request, not per job
    assert small.skipped.max_length is None and small.skipped.matching_softprompt is None

    await call(manual, text_request(rkey, max_length=400, max_context_length=1024), TextGenerateAsyncResponse)
    await call(manual, text_request(rkey, max_context_length=1024, softprompt="other-sp"), TextGenerateAsyncResponse)
    short = await call(manual, text_pop_request(wkey, "Short Kobold", max_length=200, max_context_length=2048),
                       TextGenerateJobPopResponse)
    assert short.id_ is None
    assert (short.skipped.max_context_length, short.skipped.max_length, short.skipped.matching_softprompt) == (
        2, 1, 1)

    big = await call(manual, text_pop_request(wkey, "Big Kobold", max_context_length=8192),
                     TextGenerateJobPopResponse)
    assert big.id_ is not None and big.payload.max_context_length == 4096
    assert big.model == TEXT_MODEL


async def test_text_workers_models_and_stats(service: HordeService, sdk_server, http, manual, simple,
                                             make_user) -> None:
    _, rkey = await make_user("writer", kudos=200)
    _, wkey = await make_user("kobold")
    _, ikey = await make_user("alchemist")
    empty_totals = await call(manual, TextStatsModelsTotalRequest(), TextStatsModelsTotalResponse)
    assert empty_totals.total == {"requests": 0, "tokens": 0}

    await call(manual, text_pop_request(wkey, "Stats Kobold", threads=2), TextGenerateJobPopResponse)
    await call(manual, AlchemyPopRequest(apikey=ikey, name="Side Alchemist", priority_usernames=[], forms=FORMS),
               AlchemyPopResponse)
    await call(manual, text_request(rkey), TextGenerateAsyncResponse)

    models = await call(manual, HordeStatusModelsAllRequest(type=MODEL_TYPE.text), HordeStatusModelsAllResponse)
    by_name = {m.name: m for m in models.root}
    assert set(by_name) == {TEXT_MODEL}
    entry = by_name[TEXT_MODEL]
    assert entry.type_ == MODEL_TYPE.text and entry.count == 2 and entry.jobs == 1
    images = await call(manual, HordeStatusModelsAllRequest(type=MODEL_TYPE.image), HordeStatusModelsAllResponse)
    assert TEXT_MODEL not in {m.name for m in images.root}
    known = await call(manual, HordeStatusModelsAllRequest(type=MODEL_TYPE.text, model_state=MODEL_STATE.known),
                       HordeStatusModelsAllResponse)
    assert [m.name for m in known.root] == [TEXT_MODEL]
    custom = await call(manual, HordeStatusModelsAllRequest(type=MODEL_TYPE.text, model_state=MODEL_STATE.custom),
                        HordeStatusModelsAllResponse)
    assert custom.root == []
    single = await call(manual, HordeStatusModelsSingleRequest(model_name=TEXT_MODEL),
                        HordeStatusModelsSingleResponse)
    assert [(m.name, m.type_) for m in single.root] == [(TEXT_MODEL, MODEL_TYPE.text)]

    texts = await call(manual, AllWorkersDetailsRequest(type=WORKER_TYPE.text), AllWorkersDetailsResponse)
    assert [w.name for w in texts.root] == ["Stats Kobold"]
    listed = texts.root[0]
    assert listed.type_ == WORKER_TYPE.text and listed.models == [TEXT_MODEL] and listed.threads == 2
    assert listed.max_length == 512 and listed.max_context_length == 4096 and listed.forms is None
    assert listed.maintenance_mode is False and listed.bridge_agent == KOBOLD_BRIDGE
    raw = await raw_json(http, "GET", sdk_server.make_url("/api/v2/workers?type=text"))
    assert AllWorkersDetailsResponse.model_validate(raw).root[0].name == "Stats Kobold"
    no_images = await call(manual, AllWorkersDetailsRequest(type=WORKER_TYPE.image), AllWorkersDetailsResponse)
    assert no_images.root == []

    await sdk_text_worker(manual, wkey, "Stats Kobold")
    stats = await call(manual, TextStatsModelsRequest(), TextStatsModelResponse)
    assert stats.total == {TEXT_MODEL: 1} and stats.day == {TEXT_MODEL: 1} and stats.month == {TEXT_MODEL: 1}
    simple_stats = await simple.text_stats_models()
    assert simple_stats.total == {TEXT_MODEL: 1}
    totals = await simple.text_stats_totals()
    assert isinstance(totals, TextStatsModelsTotalResponse)
    for period in (totals.minute, totals.hour, totals.day, totals.month, totals.total):
        assert period == {"requests": 1, "tokens": 120}
    after = await call(manual, HordeStatusModelsAllRequest(type=MODEL_TYPE.text), HordeStatusModelsAllResponse)
    assert [(m.name, m.jobs) for m in after.root] == [(TEXT_MODEL, 0)]


# --- interrogation ------------------------------------------------------------------------------------------

def alchemy_request(key: str, forms: list[KNOWN_ALCHEMY_TYPES] | None = None) -> AlchemyAsyncRequest:
    return AlchemyAsyncRequest(apikey=key, forms=[AlchemyAsyncRequestFormItem(name=f) for f in forms or FORMS],
                               source_image=base64.b64encode(tiny_webp()).decode())


async def sdk_alchemist(manual: AIHordeAPIAsyncManualClient, http: aiohttp.ClientSession, key: str, name: str, *,
                        ready: asyncio.Event | None = None, forms: int = 2,
                        ) -> list[tuple[Any, float]]:
    """Pop forms (through the SDK) until `forms` were served: fetch the source, look at it, submit a bare string."""
    served: list[tuple[Any, float]] = []
    for _ in range(POLL_LIMIT):
        pop = await call(manual, AlchemyPopRequest(apikey=key, name=name, priority_usernames=[], forms=FORMS),
                         AlchemyPopResponse)
        if ready is not None:
            ready.set()
        if not pop.forms:
            await asyncio.sleep(0.02)
            continue
        for form in pop.forms:
            assert form.form in FORMS and form.r2_upload is None and form.payload is None
            assert form.source_image and form.source_image.startswith("http://127.0.0.1:")
            async with http.get(form.source_image) as got:  # a plain GET, no headers
                assert got.status == 200
                picture = Image.open(io.BytesIO(await got.read()))
                picture.load()
            assert picture.size == (96, 64)
            pixel = picture.convert("RGB").getpixel((3, 3))  # the horde may re-encode the source lossily
            assert all(abs(a - b) <= 4 for a, b in zip(pixel, PIXEL, strict=True)), pixel
            result = "a small red rectangle" if form.form == KNOWN_ALCHEMY_TYPES.caption else "False"
            submit = AlchemyJobSubmitRequest(apikey=key, id=form.id_, result=result, state=GENERATION_STATE.ok)
            reward = await call(manual, submit, AlchemyJobSubmitResponse)
            served.append((form, reward.reward))
        if len(served) >= forms:
            return served
    raise AssertionError(f"alchemist {name} found no form in {POLL_LIMIT} polls")


async def sdk_alchemy_client(http: aiohttp.ClientSession, request: AlchemyAsyncRequest,
                             ) -> tuple[AlchemyAsyncResponse, list[AlchemyStatusResponse]]:
    async with AIHordeAPIAsyncClientSession(http) as session:
        accepted = await call(session, request, AlchemyAsyncResponse)
        statuses: list[AlchemyStatusResponse] = []
        for _ in range(POLL_LIMIT):
            status = await call(session, AlchemyStatusRequest(id=accepted.id_), AlchemyStatusResponse)
            statuses.append(status)
            if status.state == GENERATION_STATE.done:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the interrogation never finished")
        assert session._pending_follow_ups == [], "the SDK does not consider the interrogation complete"
    return accepted, statuses


async def test_sdk_alchemy_client_and_sdk_alchemist_round_trip(service: HordeService, sdk_server, http, manual,
                                                               make_user) -> None:
    _, rkey = await make_user("asker", kudos=50)
    owner, akey = await make_user("alchemy owner")
    ready = asyncio.Event()
    alchemist = asyncio.create_task(sdk_alchemist(manual, http, akey, "SDK Alchemist", ready=ready))
    await asyncio.wait_for(ready.wait(), 10)
    (accepted, statuses), served = await asyncio.gather(sdk_alchemy_client(http, alchemy_request(rkey)), alchemist)

    assert accepted.id_ is not None
    assert sorted(str(f.form) for f, _ in served) == ["caption", "nsfw"]
    assert [reward for _, reward in served] == [1.0, 1.0]

    first = statuses[0]
    assert first.state in (GENERATION_STATE.waiting, GENERATION_STATE.processing, GENERATION_STATE.partial,
                           GENERATION_STATE.done)
    assert sorted(str(f.form) for f in first.forms) == ["caption", "nsfw"]
    for f in first.forms:
        assert (f.result is None) == (f.state != GENERATION_STATE.done)
    final = statuses[-1]
    assert final.state == GENERATION_STATE.done
    assert all(f.state == GENERATION_STATE.done for f in final.forms)
    results = {str(f.form): f.result for f in final.forms}
    assert isinstance(results["caption"], AlchemyCaptionResult)
    assert results["caption"].caption == "a small red rectangle"
    assert isinstance(results["nsfw"], AlchemyNSFWResult) and results["nsfw"].nsfw is False
    assert [r.caption for r in final.all_caption_results] == ["a small red rectangle"]
    assert [r.nsfw for r in final.all_nsfw_results] == [False]

    again = await call(manual, AlchemyStatusRequest(id=accepted.id_), AlchemyStatusResponse)
    assert again.state == GENERATION_STATE.done
    raw = await raw_json(http, "GET", sdk_server.make_url(f"/api/v2/interrogate/status/{accepted.id_}"))
    assert AlchemyStatusResponse.model_validate(raw).state == GENERATION_STATE.done
    assert {f["form"]: f["result"] for f in raw["forms"]} == {"caption": {"caption": "a small red rectangle"},
                                                              "nsfw": {"nsfw": False}}

    alchemists = await call(manual, AllWorkersDetailsRequest(type=WORKER_TYPE.interrogation),
                            AllWorkersDetailsResponse)
    assert [w.name for w in alchemists.root] == ["SDK Alchemist"]
    listed = alchemists.root[0]
    assert listed.type_ == WORKER_TYPE.interrogation and sorted(listed.forms or []) == ["caption", "nsfw"]
    assert listed.models is None and listed.requests_fulfilled == 2 and listed.maintenance_mode is False
    assert listed.owner == f"alchemy owner#{owner.id}"
    raw_workers = await raw_json(http, "GET", sdk_server.make_url("/api/v2/workers?type=interrogation"))
    assert AllWorkersDetailsResponse.model_validate(raw_workers).root[0].forms == listed.forms
    texts = await call(manual, AllWorkersDetailsRequest(type=WORKER_TYPE.text), AllWorkersDetailsResponse)
    assert texts.root == []

    who = await call(manual, FindUserRequest(apikey=rkey), UserDetailsResponse)
    assert who.kudos == 50 - 2
    assert who.active_generations is not None and not who.active_generations.alchemy
    mine = await call(manual, FindUserRequest(apikey=akey), UserDetailsResponse)
    assert mine.kudos == 2 and mine.worker_ids == [str(listed.id_)]
    await assert_books_balance(service)


async def test_cancel_a_waiting_interrogation_through_the_sdk(service: HordeService, sdk_server, http, manual,
                                                              make_user) -> None:
    _, rkey = await make_user("asker", kudos=50)
    accepted = await call(manual, alchemy_request(rkey), AlchemyAsyncResponse)
    waiting = await call(manual, AlchemyStatusRequest(id=accepted.id_), AlchemyStatusResponse)
    assert waiting.state == GENERATION_STATE.waiting
    assert all(f.state == GENERATION_STATE.waiting and f.result is None for f in waiting.forms)
    who = await call(manual, FindUserRequest(apikey=rkey), UserDetailsResponse)
    assert who.kudos == 48
    assert who.active_generations is not None
    assert [str(i) for i in who.active_generations.alchemy or []] == [str(accepted.id_)]

    cancelled = await call(manual, AlchemyDeleteRequest(id=accepted.id_), AlchemyStatusResponse)
    assert cancelled.state == GENERATION_STATE.cancelled
    assert sorted(str(f.form) for f in cancelled.forms) == ["caption", "nsfw"]
    assert all(f.state != GENERATION_STATE.done and f.result is None for f in cancelled.forms)

    who = await call(manual, FindUserRequest(apikey=rkey), UserDetailsResponse)
    assert who.kudos == 50
    assert who.active_generations is not None and not who.active_generations.alchemy
    _, akey = await make_user("alchemist")
    late = await call(manual, AlchemyPopRequest(apikey=akey, name="Late Alchemist", priority_usernames=[],
                                                forms=FORMS), AlchemyPopResponse)
    assert late.forms == []

    # the session cleans up after itself the same way when the client gives up
    async with AIHordeAPIAsyncClientSession(http) as session:
        dropped = await call(session, alchemy_request(rkey), AlchemyAsyncResponse)
    gone = await call(manual, AlchemyStatusRequest(id=dropped.id_), AlchemyStatusResponse)
    assert gone.state == GENERATION_STATE.cancelled
    assert all(f.state == GENERATION_STATE.cancelled for f in gone.forms)
    unknown = await manual.submit_request(AlchemyStatusRequest(id=str(uuid.uuid4())), AlchemyStatusResponse)
    assert isinstance(unknown, RequestErrorResponse) and unknown.rc == "RequestNotFound"
    await assert_books_balance(service)


async def test_cancelled_interrogation_reports_cancelled(service: HordeService, sdk_server, manual,
                                                         make_user) -> None:
    _, rkey = await make_user("asker", kudos=50)
    accepted = await call(manual, alchemy_request(rkey), AlchemyAsyncResponse)
    cancelled = await call(manual, AlchemyDeleteRequest(id=accepted.id_), AlchemyStatusResponse)
    assert all(f.state == GENERATION_STATE.cancelled for f in cancelled.forms)
    assert cancelled.state == GENERATION_STATE.cancelled
