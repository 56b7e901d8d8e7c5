"""The request options over raw HTTP, as clients that do not use horde-sdk send them: dry_run, allow_downgrade
and disable_batching on image requests (the SDK 0.18.0 does not model them there)."""

from __future__ import annotations

import aiohttp

from horde_core.service import HordeService


async def test_image_options_over_http(service: HordeService, server, make_user) -> None:
    _, poor = await make_user("poor", kudos=0)
    _, trusted = await make_user("trusted", kudos=1000, trusted=True)
    _, wkey = await make_user("gpu")
    url = server.make_url
    big = {"prompt": "a castle", "params": {"width": 1024, "height": 1024, "steps": 60, "n": 1}}
    async with aiohttp.ClientSession() as http:
        async def post(key: str, body: dict) -> tuple[int, dict]:  # type: ignore[type-arg]
            async with http.post(url("/api/v2/generate/async"), headers={"apikey": key}, json=body) as r:
                return r.status, await r.json()

        status, out = await post(poor, big)
        assert (status, out["rc"]) == (403, "KudosUpfront")
        status, full = await post(poor, {**big, "dry_run": True})
        assert status == 200 and set(full) == {"kudos"}
        status, small = await post(poor, {**big, "dry_run": True, "allow_downgrade": True})
        assert status == 200 and set(small) == {"kudos"} and small["kudos"] < full["kudos"]
        status, accepted = await post(poor, {**big, "allow_downgrade": True})
        assert status == 202 and accepted["kudos"] == small["kudos"]

        status, _ = await post(trusted, {"prompt": "three seeds", "params": {"n": 3}, "disable_batching": True})
        assert status == 202
        pops = []
        for _ in range(4):
            async with http.post(url("/api/v2/generate/pop"), headers={"apikey": wkey},
                                 json={"name": "Batcher", "models": ["stable_diffusion"], "amount": 4,
                                       "max_pixels": 1024 * 1024, "bridge_agent": "test:1:none"}) as r:
                pops.append(await r.json())
        sizes = [len(p["ids"]) for p in pops]
        # The downgraded request (512x512 now) is served first or last; the trusted request's three jobs
        # come one per pop, each with its own upload URL.
        assert sorted(sizes) == [1, 1, 1, 1]
        assert all(p["payload"]["n_iter"] == 1 and len(p["r2_uploads"]) == 1 for p in pops)
