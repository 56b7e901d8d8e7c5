"""The image flow over real HTTP: request, pop, upload, submit, check, status, download."""

from __future__ import annotations

import io

import aiohttp
from PIL import Image

from horde_core.service import HordeService


def webp(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(out, format="WEBP", lossless=True)
    return out.getvalue()


async def test_full_cycle_with_r2_upload(service: HordeService, server, make_user) -> None:
    requester, rkey = await make_user("req", kudos=100)
    worker_owner, wkey = await make_user("gpu")
    async with aiohttp.ClientSession() as http:
        r = await http.post(server.make_url("/api/v2/generate/async"), headers={"apikey": rkey},
                            json={"prompt": "a lighthouse", "params": {"n": 2, "steps": 50}})
        assert r.status == 202, await r.text()
        accepted = await r.json()
        assert set(accepted) == {"id", "kudos"}
        assert accepted["kudos"] == (10 + 3) * 2

        r = await http.post(server.make_url("/api/v2/generate/pop"), headers={"apikey": wkey},
                            json={"name": "Worker One", "models": ["stable_diffusion"], "amount": 2,
                                  "bridge_agent": "test:1:none"})
        pop = await r.json()
        assert r.status == 200, pop
        assert len(pop["ids"]) == 2 and pop["id"] == pop["ids"][0]
        assert pop["payload"]["ddim_steps"] == 50 and pop["payload"]["n_iter"] == 2
        assert isinstance(pop["payload"]["seed"], str)
        assert sorted(pop["r2_uploads"]) == [u for _, u in sorted(zip(pop["ids"], pop["r2_uploads"]))]

        for i, (job_id, url) in enumerate(zip(pop["ids"], pop["r2_uploads"])):
            put = await http.put(url, data=webp((i, 50, 100)))
            assert put.status == 200
            sub = await http.post(server.make_url("/api/v2/generate/submit"), headers={"apikey": wkey},
                                  json={"id": job_id, "generation": "R2", "state": "ok", "seed": "42"})
            assert sub.status == 200, await sub.text()
            assert (await sub.json())["reward"] == 10.0

        dup = await http.post(server.make_url("/api/v2/generate/submit"), headers={"apikey": wkey},
                              json={"id": pop["ids"][0], "generation": "R2"})
        assert dup.status == 400 and (await dup.json())["rc"] == "DuplicateGen"

        check = await (await http.get(server.make_url(f"/api/v2/generate/check/{accepted['id']}"))).json()
        assert check["done"] is True and check["finished"] == 2 and check["kudos"] == 26.0
        status = await (await http.get(server.make_url(f"/api/v2/generate/status/{accepted['id']}"))).json()
        assert len(status["generations"]) == 2
        gen = status["generations"][0]
        assert gen["seed"] == "42" and gen["worker_name"] == "Worker One"
        got = await http.get(gen["img"])
        assert got.status == 200
        assert Image.open(io.BytesIO(await got.read())).convert("RGB").getpixel((1, 1)) in ((0, 50, 100), (1, 50, 100))

    async with service.db.read() as conn:
        from horde_core.ledger import book

        totals = await book.totals(conn)
    assert totals["minted"] == totals["balances"] + totals["escrows"] + totals["burned"]
    assert totals["burned"] == 6
    assert (await service.user_by_name(f"req#{requester.id}")).kudos == 100 - 26
    assert (await service.user_by_name(f"gpu#{worker_owner.id}")).kudos == 20
