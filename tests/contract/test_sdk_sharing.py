"""horde-sdk 0.18.0 (strict) against issue 16: ModifyWorker (name, team, paused, maintenance, info), worker
details carrying their team (TeamDetailsLite), and a generation request made with a shared key.

The SDK 0.18.0 models no shared-key or team endpoints of their own; those are checked in tests/api."""

from __future__ import annotations

from typing import Any

from horde_sdk.ai_horde_api.apimodels import (
    ImageGenerateAsyncRequest,
    ImageGenerateAsyncResponse,
    ImageGenerateJobPopRequest,
    ImageGenerateJobPopResponse,
    ImageGenerationInputPayload,
    ModifyWorkerRequest,
    ModifyWorkerResponse,
    SingleWorkerDetailsRequest,
    SingleWorkerDetailsResponse,
)
from horde_sdk.generic_api.apimodels import RequestErrorResponse
from sqlalchemy import update

from horde_core.models import User
from horde_core.service import HordeService
from horde_core.service.sharing_specs import SharedKeySpec, TeamCreateSpec
from tests.contract.sdk import call


async def test_modify_worker_and_its_team_through_the_sdk(service: HordeService, sdk_server, manual: Any,
                                                          make_user) -> None:
    owner, wkey = await make_user("gpu owner", trusted=True)
    mod, mkey = await make_user("moderator")
    async with service.db.transaction() as conn:
        await conn.execute(update(User).where(User.id == mod.id).values(moderator=True))
    team = await service.create_team(owner, TeamCreateSpec(name="Direct Action"))
    await call(manual, ImageGenerateJobPopRequest(
        apikey=wkey, name="SDK Worker", models=["stable_diffusion"], max_pixels=512 * 512,
        bridge_agent="AI Horde Worker reGen:8.0.1-citests:https://example.invalid", nsfw=False, threads=1,
        amount=1), ImageGenerateJobPopResponse)
    wid = (await service.get_worker(name="SDK Worker")).id

    changed = await call(manual, ModifyWorkerRequest(apikey=wkey, worker_id=wid, name="Renamed Worker",
                                                     team=team["id"], info="hello", maintenance=False),
                         ModifyWorkerResponse)
    assert (changed.name, changed.team, changed.info, changed.maintenance) == (
        "Renamed Worker", "Direct Action", "hello", False)
    details = await call(manual, SingleWorkerDetailsRequest(worker_id=wid), SingleWorkerDetailsResponse)
    assert details.name == "Renamed Worker" and details.team is not None
    assert details.team.name == "Direct Action" and str(details.team.id_) == team["id"]

    paused = await call(manual, ModifyWorkerRequest(apikey=mkey, worker_id=wid, paused=True), ModifyWorkerResponse)
    assert paused.paused is True
    refused = await manual.submit_request(ModifyWorkerRequest(apikey=wkey, worker_id=wid, paused=False),
                                          ModifyWorkerResponse)
    assert isinstance(refused, RequestErrorResponse) and refused.rc == "NotModerator"
    left = await call(manual, ModifyWorkerRequest(apikey=wkey, worker_id=wid, team=""), ModifyWorkerResponse)
    assert left.team == "None"
    details = await call(manual, SingleWorkerDetailsRequest(worker_id=wid), SingleWorkerDetailsResponse)
    assert details.team is None


async def test_an_sdk_client_generates_with_a_shared_key(service: HordeService, sdk_server, manual: Any,
                                                         make_user) -> None:
    owner, _ = await make_user("lender", kudos=500)
    created = await service.create_shared_key(owner, SharedKeySpec(kudos=100))
    accepted = await call(manual, ImageGenerateAsyncRequest(
        apikey=created.id, prompt="a lighthouse at dusk", models=["stable_diffusion"],
        params=ImageGenerationInputPayload(width=512, height=512, steps=20, n=1)), ImageGenerateAsyncResponse)
    assert accepted.id_ and accepted.kudos > 0
    after = await service.shared_key(created.id)
    assert after.utilized == int(accepted.kudos) and after.kudos == 100 - int(accepted.kudos)
    refused = await manual.submit_request(ImageGenerateJobPopRequest(
        apikey=created.id, name="Borrowed", models=["stable_diffusion"], max_pixels=512 * 512,
        bridge_agent="AI Horde Worker reGen:8.0.1-citests:https://example.invalid", nsfw=False, threads=1,
        amount=1), ImageGenerateJobPopResponse)
    assert isinstance(refused, RequestErrorResponse) and refused.rc == "InvalidAPIKey"
