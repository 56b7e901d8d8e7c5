"""Rater trust: the pure rule, and the pool with gold images against a random script and an honest rater."""

from __future__ import annotations

import random

from horde_core.clock import FakeClock
from horde_core.config import RatingSettings
from horde_core.ratings.labels import Labels
from horde_core.ratings.trust import TRUSTED, UNPROVEN, UNTRUSTED, Evidence, Record, after_rating, judge, running_error
from horde_core.service import HordeService
from tests.helpers import assert_books_balance, balance, tiny_png

RULES = RatingSettings()


def test_the_rule_needs_evidence_condemns_early_and_trusts_late() -> None:
    assert judge(UNPROVEN, Evidence(gold_count=4, gold_error=9.0), RULES) == UNPROVEN  # too little evidence
    assert judge(UNPROVEN, Evidence(gold_count=5, gold_error=2.1), RULES) == UNTRUSTED
    assert judge(UNPROVEN, Evidence(gold_count=9, gold_error=0.5), RULES) == UNPROVEN  # trusting takes 10
    assert judge(UNPROVEN, Evidence(gold_count=10, gold_error=2.0), RULES) == TRUSTED
    assert judge(TRUSTED, Evidence(gold_count=30, gold_error=2.01), RULES) == UNTRUSTED
    assert judge(UNTRUSTED, Evidence(gold_count=30, gold_error=1.5), RULES) == UNTRUSTED  # hysteresis
    assert judge(UNTRUSTED, Evidence(gold_count=30, gold_error=1.25), RULES) == TRUSTED
    # consensus: condemns above 2.5, proves only at 1.75 or better, and bad evidence of either kind wins
    assert judge(UNPROVEN, Evidence(consensus_count=10, consensus_error=2.0), RULES) == UNPROVEN
    assert judge(UNPROVEN, Evidence(consensus_count=10, consensus_error=1.7), RULES) == TRUSTED
    assert judge(TRUSTED, Evidence(gold_count=20, gold_error=0.5, consensus_count=10, consensus_error=2.6),
                 RULES) == UNTRUSTED
    assert judge(TRUSTED, Evidence(), RULES) == TRUSTED  # an operator-trusted account keeps the flag until evidence


def test_errors_are_plain_means_then_favour_recent_ratings() -> None:
    mean = 0.0
    for n, err in enumerate([1, 2, 3]):
        mean = running_error(mean, n, err, 10)
    assert mean == 2.0
    assert running_error(1.0, 50, 5.0, 10) == 1.4  # weight 1/10 once past the window


def test_a_trusted_rater_who_turns_random_is_caught() -> None:
    rng, draws = random.Random(3), random.Random(4)
    rec = Record(state=UNPROVEN)
    for _ in range(20):
        gold = rng.randint(1, 10)
        rec = after_rating(rec, min(10, gold + 1), gold=gold, others=[], pool=True, rules=RULES, rng=draws)
    assert rec.state == TRUSTED
    turned = 0
    while rec.state != UNTRUSTED and turned < 100:
        turned += 1
        rec = after_rating(rec, rng.randint(1, 10), gold=rng.randint(1, 10), others=[], pool=True, rules=RULES,
                           rng=draws)
    assert rec.state == UNTRUSTED and turned <= 15, turned  # gold ratings (at one in ten: ~150 ratings)


def test_consensus_compares_with_trusted_raters_only_when_enough_rated() -> None:
    rec = Record()
    rec = after_rating(rec, 9, gold=None, others=[2, 3], pool=True, rules=RULES, rng=random.Random(1))
    assert rec.evidence.consensus_count == 0  # two others are not a consensus
    rec = after_rating(rec, 9, gold=None, others=[2, 3, 4], pool=True, rules=RULES, rng=random.Random(1))
    assert (rec.evidence.consensus_count, rec.evidence.consensus_error) == (1, 6.0)


async def _pool(service: HordeService, clock: FakeClock, gold: int, ordinary: int) -> dict[str, int]:
    """Gold images with ratings spread over 1-10 and ordinary images; returns gold id -> rating."""
    answers = {}
    for i in range(gold):
        clock.advance(1)  # distinct import times: a stable serving order on both databases
        image_id, _ = await service.import_image("faces", tiny_png(i), Labels(rating=i % 10 + 1), gold=True)
        answers[image_id] = i % 10 + 1
    for i in range(ordinary):
        clock.advance(1)
        await service.import_image("faces", tiny_png(1000 + i), Labels(caption=f"face {i}", rating=5))
    return answers


async def test_a_random_script_becomes_untrusted_and_earns_nothing_while_an_honest_rater_earns(
        service: HordeService, make_user, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    service.config.ratings.daily_reward_cap = 10_000
    service.rng = random.Random(11)
    gold = await _pool(service, clock, gold=30, ordinary=70)
    script, _ = await make_user("script")
    honest, _ = await make_user("honest")
    dice = random.Random(5)

    untrusted_at, rewards = None, []
    for n in range(1, 61):
        image = await service.next_to_rate(script)
        assert image is not None and set(image) == {"id", "model", "url", "dataset"} and image["dataset"] == "faces"
        clock.advance(10)
        rewards.append(await service.rate_shared(script, image["id"], dice.randint(1, 10), None))
        if untrusted_at is None and await service.rater_state(script.id) == UNTRUSTED:
            untrusted_at = n
    assert untrusted_at is not None and untrusted_at <= 30, untrusted_at
    assert rewards[untrusted_at - 1:] == [0] * (60 - untrusted_at + 1)  # from the rating that condemned it
    assert await service.rater_state(script.id) == UNTRUSTED
    assert await balance(service, script) == sum(rewards) == 5 * (untrusted_at - 1)  # unproven ratings were paid

    golds_seen = 0
    for _ in range(40):
        image = await service.next_to_rate(honest)
        assert image is not None
        golds_seen += image["id"] in gold
        score = gold.get(image["id"], 6)
        clock.advance(10)
        assert await service.rate_shared(honest, image["id"], max(1, min(10, score + dice.randint(-1, 1))), 2) == 7
    assert await service.rater_state(honest.id) == TRUSTED
    assert 10 <= golds_seen <= 25, golds_seen  # every other pick while unproven, then about one in ten
    await assert_books_balance(service)


async def test_gold_checks_are_served_whatever_the_filter_and_never_as_ordinary_picks(
        service: HordeService, make_user, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    gold = await _pool(service, clock, gold=1, ordinary=2)
    await service.import_image("landscapes", tiny_png(5000))
    rater, _ = await make_user("rater")
    first = await service.next_to_rate(rater, dataset="landscapes")
    assert first is not None and first["id"] in gold  # a new rater's first pick is a check
    assert first["dataset"] == "faces" and first["model"] == ""
    assert await service.next_to_rate(rater, dataset="landscapes") == first  # asking again does not skip it
    await service.rate_shared(rater, first["id"], 5, None)
    served = []
    while (image := await service.next_to_rate(rater)) is not None:
        served.append(image["id"])
        await service.rate_shared(rater, image["id"], 5, None)
    assert len(served) == 3 and not set(served) & set(gold)  # its one gold image is rated; no repeats


async def test_untrusted_raters_earn_nothing_for_their_own_results_either(
        service: HordeService, make_user, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    from horde_core.service.schemas import RateSpec
    from tests.helpers import image_request, pop_spec, submit_spec

    service.config.ratings.trust_min_gold = 1
    gold = await _pool(service, clock, gold=1, ordinary=0)
    owner, _ = await make_user("owner", kudos=100)
    gpu, _ = await make_user("gpu")
    rid = (await service.request_images(owner, image_request())).id
    job = (await service.pop_image(gpu, pop_spec("w"))).ids[0]
    await service.submit_image(gpu, submit_spec(job))
    gold_id, answer = next(iter(gold.items()))
    assert await service.rate_shared(owner, gold_id, 11 - answer if answer < 4 or answer > 7 else 10, None) == 0
    assert await service.rater_state(owner.id) == UNTRUSTED
    spec = RateSpec.model_validate({"ratings": [{"id": job, "rating": 8}]})
    assert await service.rate_own(owner, rid, spec) == 0
