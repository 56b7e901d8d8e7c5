"""A pop never claims more than it asked for. PostgreSQL may re-run a `LIMIT ... FOR UPDATE SKIP LOCKED`
subquery once per candidate row and hand out more jobs than the limit, unless the pick is materialised."""

from __future__ import annotations

import base64

from horde_core.queue import lifecycle
from horde_core.service import HordeService
from horde_core.service.schemas import AlchemyPopSpec, AlchemyRequestSpec
from tests.api.test_alchemy_flow import png_bytes


async def test_an_alchemist_popping_one_form_gets_one(service: HordeService, make_user) -> None:
    requester, _ = await make_user("req", kudos=100)
    worker, _ = await make_user("alchemist")
    rid = await service.request_interrogation(requester, AlchemyRequestSpec.model_validate({
        "forms": [{"name": "caption"}, {"name": "nsfw"}, {"name": "interrogation"}],
        "source_image": base64.b64encode(png_bytes(64, 64)).decode()}))
    forms, _ = await service.pop_interrogation(worker, AlchemyPopSpec.model_validate(
        {"name": "a1", "forms": ["caption", "nsfw", "interrogation"], "amount": 1}))
    assert len(forms) == 1
    async with service.db.read() as conn:
        states = sorted(j.state for j in await lifecycle.jobs_of(conn, rid))
    assert states == ["processing", "waiting", "waiting"]
