"""/metrics: the Prometheus text format, with queue depth, workers, job outcomes, latencies, kudos and sanctions."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from horde_core.service import HordeService
from tests.helpers import image_request


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_report_what_the_horde_keeps(site: TestClient, service: HordeService,
                                                   make_user) -> None:  # type: ignore[no-untyped-def]
    owner, key = await make_user("owner")
    requester, _ = await make_user("req", kudos=500)
    body = {"name": "gpu-m", "models": ["stable_diffusion"], "threads": 2, "bridge_agent": "t:1:x"}
    assert (await site.post("/api/v2/generate/pop", json=body, headers={"apikey": key})).status == 200
    await service.request_images(requester, image_request(models=["stable_diffusion"], params={"n": 3}))
    popped = await (await site.post("/api/v2/generate/pop", json=body, headers={"apikey": key})).json()
    submit = {"id": popped["id"], "state": "faulted"}
    assert (await site.post("/api/v2/generate/submit", json=submit, headers={"apikey": key})).status == 200
    await service.record_strike(service.subject(requester.id, False, None, "1.2.3.4"), "blocked_prompt")
    r = await site.get("/metrics")
    assert r.status == 200 and r.content_type == "text/plain"
    got = _samples(await r.text())
    assert got[("horde_queue_jobs", (("kind", "image"),))] == 3  # the faulted job went back to the queue
    assert got[("horde_model_queue_jobs", (("kind", "image"), ("model", "stable_diffusion")))] == 3
    assert got[("horde_workers_online", (("kind", "image"),))] == 1
    assert got[("horde_threads_online", (("kind", "image"),))] == 2
    assert got[("horde_jobs_total", (("kind", "image"), ("outcome", "faulted")))] == 1
    assert got[("horde_api_seconds_count", (("kind", "image"), ("op", "pop")))] == 2
    assert got[("horde_api_seconds_count", (("kind", "image"), ("op", "submit")))] == 1
    assert got[("horde_kudos_minted_total", ())] == 500
    assert got[("horde_strikes", (("reason", "blocked_prompt"),))] == 1
    assert got[("horde_sanctions", (("state", "timeout"),))] >= 1
    assert r.headers["X-Content-Type-Options"] == "nosniff"
