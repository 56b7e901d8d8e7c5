"""Contract tests: horde-sdk 0.18.0 in strict mode (extra=forbid) for users, documents and modes (issue 16).

The SDK parses the leaderboard, each privilege's view of a user, a moderator's ModifyUser answer and the
operator's documents; a field we add, drop or mistype makes it hand back an error instead, and the test fails.
"""

from __future__ import annotations

import aiohttp
import pytest
from horde_sdk.ai_horde_api.ai_horde_clients import AIHordeAPIAsyncManualClient
from horde_sdk.ai_horde_api.apimodels import (
    AIHordeGetPrivacyPolicyRequest,
    AIHordeGetSponsorsRequest,
    AIHordeGetTermsRequest,
    FindUserRequest,
    HordeDocument,
    HordeModes,
    ListUsersDetailsRequest,
    ListUsersDetailsResponse,
    ModifyUserRequest,
    ModifyUserResponse,
    SingleUserDetailsRequest,
    UserDetailsResponse,
)

from horde_core.service import HordeService
from tests.contract.sdk import call
from tests.helpers import image_request, pop_spec, submit_spec


@pytest.fixture
def config(config):  # type: ignore[no-untyped-def]
    config.web.admins = ["boss"]
    return config


async def test_users_and_a_moderators_changes_parse_strictly(service: HordeService, sdk_server,  # type: ignore[no-untyped-def]
                                                             manual: AIHordeAPIAsyncManualClient, make_user) -> None:
    boss, boss_key = await make_user("boss")
    member, key = await make_user("member", kudos=50)
    gpu, gpu_key = await make_user("gpu")
    rid = (await service.request_images(member, image_request())).id
    popped = await service.pop_image(gpu, pop_spec("sdk-users-worker"))
    await service.submit_image(gpu, submit_spec(popped.ids[0]))
    assert rid

    board = await call(manual, ListUsersDetailsRequest(page=1), ListUsersDetailsResponse)
    assert [u.id_ for u in board.root][:2] == [member.id, gpu.id]  # member: 50 - cost; gpu: the reward
    assert board.root[0].records is not None and board.root[0].records.request.image == 1
    assert (await call(manual, ListUsersDetailsRequest(page=2, sort="age"), ListUsersDetailsResponse)).root == []

    public = await call(manual, SingleUserDetailsRequest(user_id=str(gpu.id)), UserDetailsResponse)
    assert public.worker_ids is None and public.contributions is not None
    assert public.contributions.fulfillments == 1
    mine = await call(manual, FindUserRequest(apikey=gpu_key), UserDetailsResponse)
    assert mine.worker_ids is not None and len(mine.worker_ids) == 1 and mine.suspicious is None

    changed = await call(manual, ModifyUserRequest(apikey=boss_key, user_id=str(member.id), trusted=True,
                                                   moderator=True, concurrency=5, kudos=10.0), ModifyUserResponse)
    assert (changed.trusted, changed.moderator, changed.concurrency, changed.new_kudos) == (
        True, True, 5, float((await service.user_by_name(str(member.id))).kudos))
    as_mod = await call(manual, SingleUserDetailsRequest(user_id=str(gpu.id)), UserDetailsResponse)
    assert as_mod.suspicious is None  # no key sent: the public view
    reset = await call(manual, ModifyUserRequest(apikey=key, user_id=str(gpu.id), reset_suspicion=True),
                       ModifyUserResponse)
    assert reset.new_suspicion == 0  # member is a moderator now
    style = {"name": "sdk-style", "prompt": "{p}", "models": ["stable_diffusion"]}
    async with aiohttp.ClientSession() as http, http.post(sdk_server.make_url("/api/v2/styles/image"),
                                                          headers={"apikey": key}, json=style) as r:
        assert r.status == 200
    styled = await call(manual, SingleUserDetailsRequest(user_id=str(member.id)), UserDetailsResponse)
    assert styled.styles is not None and [s.name for s in styled.styles] == [f"member#{member.id}::style::sdk-style"]
    assert boss.id != member.id


async def test_documents_and_modes_parse_strictly(service: HordeService, sdk_server,  # type: ignore[no-untyped-def]
                                                  manual: AIHordeAPIAsyncManualClient) -> None:
    service.config.documents.privacy = "# Privacy\n\nWe keep nothing."
    terms = await call(manual, AIHordeGetTermsRequest(), HordeDocument)
    assert terms.html is not None and terms.html.startswith("<h1>Terms of service</h1>") and terms.markdown is None
    # horde-sdk 0.18.0 does not send `format` as a query parameter, so (as from AI Horde) it gets HTML
    privacy = await call(manual, AIHordeGetPrivacyPolicyRequest(), HordeDocument)
    assert privacy.html == "<h1>Privacy</h1>\n<p>We keep nothing.</p>" and privacy.markdown is None
    assert (await call(manual, AIHordeGetSponsorsRequest(), HordeDocument)).html
    async with aiohttp.ClientSession() as http, http.get(sdk_server.make_url("/api/v2/status/modes")) as r:
        modes = HordeModes.model_validate(await r.json())  # strict: no field the SDK does not declare
    assert modes.maintenance_mode is False and modes.invite_only_mode is False
