"""The dataset export: trusted raters only, under pseudonyms, with the metadata and aggregates a dataset needs;
gold images and images no trusted rater rated stay out."""

from __future__ import annotations

from typing import Any

from horde_core.clock import FakeClock
from horde_core.ratings.labels import Labels
from horde_core.service import HordeService
from tests.helpers import image_request, pop_spec, submit_spec, tiny_png


async def _export(service: HordeService, dataset: str | None = None) -> list[dict[str, Any]]:
    rows = []
    async for row, data in service.export_dataset(dataset):
        assert data == await service.image_bytes(row["id"]) and data
        rows.append(row)
    return rows


async def test_export_counts_trusted_raters_only(service: HordeService, make_user, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    rules = service.config.ratings
    rules.trust_min_gold = rules.trust_min_gold_to_trust = 1  # one gold rating decides, to keep this short
    gold, _ = await service.import_image("faces", tiny_png(1), Labels(rating=8), gold=True)
    face, _ = await service.import_image("faces", tiny_png(2), Labels(caption="a face", rating=6, artifacts=1))
    lonely, _ = await service.import_image("faces", tiny_png(3))
    gpu, _ = await make_user("gpu")
    anonymous = await service.authenticate(None)
    await service.request_images(anonymous, image_request("a cat ### blurry, ugly", params={"seed": "42"}),
                                 client_agent="cat-app:2:x")
    cat = (await service.pop_image(gpu, pop_spec("w"))).ids[0]
    await service.submit_image(gpu, submit_spec(cat, seed="42"))

    operator, _ = await make_user("operator", trusted=True)  # trusted from the start
    honest, _ = await make_user("honest")
    script, _ = await make_user("script")
    newcomer, _ = await make_user("newcomer")
    assert await service.rate_shared(honest, gold, 8, None) == 5
    assert await service.rate_shared(script, gold, 1, None) == 0
    assert (await service.rater_state(honest.id), await service.rater_state(script.id)) == ("trusted", "untrusted")
    for user, image, rating, artifacts in ((operator, cat, 8, 1), (operator, face, 6, None), (honest, cat, 6, None),
                                           (honest, face, 7, 0), (script, cat, 1, 5), (script, lonely, 3, None),
                                           (newcomer, cat, 10, None)):
        clock.advance(5)
        await service.rate_shared(user, image, rating, artifacts, client_agent=f"{user.username}-app:1:x")

    rows = await _export(service)
    assert sorted(r["id"] for r in rows) == sorted([cat, face])  # no gold, nothing only the untrusted rated
    by_id = {r["id"]: r for r in rows}
    c, f = by_id[cat], by_id[face]
    assert {k: c[k] for k in ("kind", "dataset", "file", "prompt", "negative_prompt", "model", "seed", "width",
                              "height", "censored", "requester", "client_agent")} == {
        "kind": "generated", "dataset": "hordebot", "file": f"images/{cat}.webp", "prompt": "a cat",
        "negative_prompt": "blurry, ugly", "model": "stable_diffusion", "seed": "42", "width": 512, "height": 512,
        "censored": False, "requester": "anonymous", "client_agent": "cat-app:2:x"}
    assert c["params"]["seed"] == "42"
    assert (c["rating_mean"], c["rating_count"], c["artifacts_mean"], c["artifacts_count"], c["raters"]) == \
        (7.0, 2, 1.0, 1, 2)
    assert [r["rating"] for r in c["ratings"]] == [8, 6]  # neither the script's 1 nor the newcomer's 10
    assert {r["client_agent"] for r in c["ratings"]} == {"operator-app:1:x", "honest-app:1:x"}
    first = c["ratings"][0]
    assert set(first) == {"rater", "rating", "artifacts", "best", "source", "client_agent", "context", "at"}
    assert first["source"] == "pool" and first["context"]["trusted"] is True and "account_age_days" in first["context"]
    assert first["context"]["rater"] == "trusted"  # the rater's standing when they rated
    pseudonyms = {r["rater"] for r in c["ratings"]}
    assert len(pseudonyms) == 2 and not pseudonyms & {str(operator.id), str(honest.id), "operator", "honest"}
    assert {r["rater"] for r in f["ratings"]} == pseudonyms  # stable: the same rater, the same name
    assert {k: f[k] for k in ("kind", "dataset", "caption", "known_rating", "known_artifacts", "width", "height")} == {
        "kind": "imported", "dataset": "faces", "caption": "a face", "known_rating": 6, "known_artifacts": 1,
        "width": 8, "height": 8}
    assert (f["rating_mean"], f["rating_count"], f["artifacts_mean"], f["artifacts_count"]) == (6.5, 2, 0.0, 1)

    assert [r["id"] for r in await _export(service, "faces")] == [face]
    assert [r["id"] for r in await _export(service, "hordebot")] == [cat]
    assert (await _export(service))[0]["ratings"][0]["rater"] in pseudonyms  # the same names next time
    stats = await service.rating_stats()
    assert stats["total"] == 9  # the stats count every rating, trusted or not: gold 2, face 2, cat 4, lonely 1
    assert stats["images_by_number_of_ratings"] == {"1": 1, "2": 2, "4": 1}
