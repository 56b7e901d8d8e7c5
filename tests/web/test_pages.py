"""The public pages: what they show, sorting without JavaScript, escaping, and the security headers."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from markupsafe import escape

from horde_core.service import HordeService
from tests.helpers import image_request, pop_spec, submit_spec


async def test_status_page_shows_workers_queue_and_models(site: TestClient, service: HordeService,
                                                          make_user) -> None:  # type: ignore[no-untyped-def]
    owner, _ = await make_user("owner")
    requester, _ = await make_user("req", kudos=500)
    await service.pop_image(owner, pop_spec("gpu-a", threads=3, models=["stable_diffusion"]))
    for _ in range(2):
        await service.request_images(requester, image_request(models=["stable_diffusion"], params={"n": 2}))
    page = await (await site.get("/")).text()
    card = page.split('id="kind-image"', 1)[1].split("</div>", 1)[0]
    assert '<dd class="workers">1</dd>' in card
    assert "<dd>3</dd>" in card  # threads
    assert '<dd class="queue">4 requests' in card
    assert "stable_diffusion" in page
    assert '<svg class="chart"' in page and "<polyline" in page


async def test_tables_sort_by_query_parameters(site: TestClient, service: HordeService,
                                               make_user) -> None:  # type: ignore[no-untyped-def]
    owner, _ = await make_user("owner")
    for name, threads in (("bravo", 1), ("alpha", 4), ("charlie", 2)):
        await service.pop_image(owner, pop_spec(name, threads=threads))

    def order(page: str) -> list[str]:
        return [n for n in sorted(("alpha", "bravo", "charlie"), key=page.index)]

    assert order(await (await site.get("/workers?sort=name&order=asc")).text()) == ["alpha", "bravo", "charlie"]
    assert order(await (await site.get("/workers?sort=name&order=desc")).text()) == ["charlie", "bravo", "alpha"]
    assert order(await (await site.get("/workers?sort=threads&order=desc")).text()) == ["alpha", "charlie", "bravo"]
    bad = await site.get("/workers?sort=%3Cx%3E&order=sideways")  # unknown values fall back to the default
    assert bad.status == 200


async def test_user_text_is_escaped_and_headers_are_strict(site: TestClient, service: HordeService,
                                                           make_user) -> None:  # type: ignore[no-untyped-def]
    owner, key = await make_user("owner")
    await service.pop_image(owner, pop_spec('<img src=x onerror="alert(1)">', models=["stable_diffusion"]))
    r = await site.get("/workers")
    page = await r.text()
    assert '<img src=x onerror="alert(1)">' not in page
    assert str(escape('<img src=x onerror="alert(1)">')) in page
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src" not in csp and "default-src 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in page


async def test_gallery_shows_shared_safe_images_only(site: TestClient, service: HordeService,
                                                     make_user) -> None:  # type: ignore[no-untyped-def]
    owner, _ = await make_user("owner")
    requester, _ = await make_user("req", kudos=500)
    await service.request_images(requester, image_request("a shared lighthouse", shared=True))
    await service.request_images(requester, image_request("a private lighthouse", shared=False))
    await service.request_images(requester, image_request("a nsfw lighthouse", shared=True, nsfw=True))
    for _ in range(3):
        job = await service.pop_image(owner, pop_spec("gpu", nsfw=True))
        await service.submit_image(owner, submit_spec(job.ids[0], seed="1"))
    page = await (await site.get("/gallery")).text()
    assert "a shared lighthouse" in page
    assert "a private lighthouse" not in page and "a nsfw lighthouse" not in page


async def test_unknown_pages_are_html_and_the_api_stays_json(site: TestClient) -> None:
    r = await site.get("/no-such-page")
    assert r.status == 404 and r.content_type == "text/html"
    r = await site.get("/api/v2/no-such-endpoint")
    assert r.status == 404 and (await r.json())["rc"] == "NotFound"
