"""Moderation pages: only moderators (web.admins), every change through the service and into the moderation log."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from horde_core.service import HordeService
from tests.helpers import image_request, pop_spec

from .conftest import csrf_of, login

PAGES = ["/mod", "/mod/workers", "/mod/abuse", "/mod/filter", "/mod/upstream"]


async def test_members_and_visitors_get_403(site: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    for path in PAGES:
        assert (await site.get(path)).status == 403
    _, key = await make_user("member")
    csrf = await login(site, key)
    for path in PAGES:
        r = await site.get(path)
        assert r.status == 403 and "moderators" in await r.text()
    for path, data in (("/mod/lift", {"key": "user:1"}), ("/mod/users/1", {"action": "trust"}),
                       ("/mod/filter", {"terms": "{}"})):
        assert (await site.post(path, data={**data, "csrf": csrf}, allow_redirects=False)).status == 403
    assert 'href="/mod"' not in await (await site.get("/me")).text()


async def test_a_moderator_lifts_a_sanction_and_it_is_logged(site: TestClient, service: HordeService,
                                                            make_user) -> None:  # type: ignore[no-untyped-def]
    boss, key = await make_user("boss")
    member, _ = await make_user("member", kudos=100)
    who = service.subject(member.id, False, "discord:42:7", "")
    await service.record_strike(who, "blocked_prompt", prompt="a bad prompt")
    assert [p["key"] for p in await service.penalties()] == ["member:discord:42:7"]
    await login(site, key)
    page = await (await site.get("/mod/abuse")).text()
    assert "member:discord:42:7" in page and "a bad prompt" in page
    csrf = await csrf_of(site, "/mod/abuse")
    r = await site.post("/mod/lift", data={"key": "member:discord:42:7", "csrf": csrf}, allow_redirects=False)
    assert r.status == 303
    assert await service.penalties() == []
    log = (await service.abuse_overview())["log"]
    assert log[0]["action"] == "lift" and log[0]["details"]["by"] == boss.display_name
    assert (await site.post("/mod/lift", data={"key": "member:discord:42:7", "csrf": csrf})).status == 404


async def test_suspend_trust_and_grant_go_through_the_service(site: TestClient, service: HordeService,
                                                              make_user) -> None:  # type: ignore[no-untyped-def]
    _, key = await make_user("boss")
    member, _ = await make_user("member", kudos=100)
    await login(site, key)
    csrf = await csrf_of(site, "/mod?q=member")
    post = {"csrf": csrf, "q": "member"}
    assert (await site.post(f"/mod/users/{member.id}", data={**post, "action": "suspend", "hours": "2"},
                            allow_redirects=False)).status == 303
    with pytest.raises(Exception) as refused:
        await service.request_images(member, image_request())
    assert getattr(refused.value, "rc", "") == "UserSuspended"
    await site.post(f"/mod/users/{member.id}", data={**post, "action": "unsuspend"})
    await site.post(f"/mod/users/{member.id}", data={**post, "action": "trust"})
    await site.post(f"/mod/users/{member.id}", data={**post, "action": "grant", "amount": "25", "note": "thanks"})
    fresh = await service.user_by_name(str(member.id))
    assert fresh.trusted and fresh.kudos == 125
    history = await service.kudos_history(member.id)
    assert history[0]["reason"] == "admin_grant" and "thanks" in history[0]["note"]
    actions = [e["action"] for e in (await service.abuse_overview())["log"]]
    assert actions[:4] == ["grant", "trust", "unsuspend", "suspend"]
    await service.request_images(member, image_request())  # no longer suspended


async def test_a_flagged_worker_gets_no_jobs(site: TestClient, service: HordeService,
                                             make_user) -> None:  # type: ignore[no-untyped-def]
    _, key = await make_user("boss")
    owner, _ = await make_user("owner")
    requester, _ = await make_user("req", kudos=100)
    await service.pop_image(owner, pop_spec("gpu-f"))
    worker = (await service.list_workers())[0]
    await service.request_images(requester, image_request())
    await login(site, key)
    csrf = await csrf_of(site, "/mod/workers")
    await site.post(f"/mod/workers/{worker.id}", data={"action": "flag", "csrf": csrf})
    assert (await service.pop_image(owner, pop_spec("gpu-f"))).ids == []
    assert (await (await site.get(f"/api/v2/workers/{worker.id}")).json())["flagged"] is True
    await site.post(f"/mod/workers/{worker.id}", data={"action": "unflag", "csrf": csrf})
    assert len((await service.pop_image(owner, pop_spec("gpu-f"))).ids) == 1


async def test_prompt_filter_test_and_edit(site: TestClient, service: HordeService,
                                           make_user) -> None:  # type: ignore[no-untyped-def]
    _, key = await make_user("boss")
    await login(site, key)
    csrf = await csrf_of(site, "/mod/filter")
    page = await (await site.post("/mod/filter/test", data={"prompt": "<script>x</script> a cat", "csrf": csrf})).text()
    assert "Allowed" in page and "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    bad = await site.post("/mod/filter", data={"terms": "not json", "csrf": csrf})
    assert bad.status == 400
    terms = await service.filter_terms()
    terms["about"] = "edited on the web"
    import json

    r = await site.post("/mod/filter", data={"terms": json.dumps(terms), "csrf": csrf}, allow_redirects=False)
    assert r.status == 303
    assert (await service.filter_terms())["about"] == "edited on the web"
    assert (await service.abuse_overview())["log"][0]["action"] == "terms"


async def test_a_moderator_opens_every_page(site: TestClient, service: HordeService,
                                            make_user) -> None:  # type: ignore[no-untyped-def]
    _, key = await make_user("boss")
    owner, _ = await make_user("owner")
    await service.pop_image(owner, pop_spec("gpu-p"))
    await login(site, key)
    for path in [*PAGES, "/mod?q=own"]:
        r = await site.get(path)
        assert r.status == 200, (path, await r.text())
    assert "owner#" in await (await site.get("/mod?q=own")).text()
    assert "gpu-p" in await (await site.get("/mod/workers")).text()
    assert "Moderation" in await (await site.get("/")).text()
