"""Pricing and queue rank are pure functions: checked without a database."""

from __future__ import annotations

import pytest

from horde_core.ledger import pricing


def test_reference_job_costs_ten_kudos() -> None:
    assert pricing.image_job_cost(512, 512, 50) == 10


@pytest.mark.parametrize(
    ("bigger", "kwargs"),
    [
        ({"width": 1024, "height": 1024, "steps": 50}, {}),
        ({"width": 512, "height": 512, "steps": 100}, {}),
        ({"width": 512, "height": 512, "steps": 50}, {"img2img": True}),
        ({"width": 512, "height": 512, "steps": 50}, {"hires_fix": True}),
        ({"width": 512, "height": 512, "steps": 50}, {"post_processors": 2}),
        ({"width": 512, "height": 512, "steps": 50}, {"loras": 1}),
    ],
)
def test_cost_grows_with_work(bigger: dict[str, int], kwargs: dict[str, object]) -> None:
    assert pricing.image_job_cost(**bigger, **kwargs) > 10  # type: ignore[arg-type]


def test_heavier_model_families_cost_more() -> None:
    assert pricing.image_job_cost(1024, 1024, 50, family="flux") == 2 * pricing.image_job_cost(1024, 1024, 50) == 80
    assert pricing.image_job_cost(512, 512, 50, family="sd1.5") == 10


def test_costs_are_whole_and_never_zero() -> None:
    cost = pricing.image_job_cost(64, 64, 1)
    assert cost == 1 and isinstance(cost, int)
    assert pricing.request_total(10, 3, 4) == 52


def test_rank_prefers_kudos_but_bounded() -> None:
    now = 1_000_000.0
    poor = pricing.queue_rank(now, 0, anonymous=False)
    rich = pricing.queue_rank(now, 10_000, anonymous=False)
    whale = pricing.queue_rank(now, 10**12, anonymous=False)
    anon = pricing.queue_rank(now, 0, anonymous=True)
    assert rich < poor < anon
    # No amount of kudos jumps a request waiting longer than the bound: nobody starves.
    assert whale >= now - pricing.MAX_RANK_BONUS
    assert pricing.queue_rank(now - pricing.MAX_RANK_BONUS - 1, 0, anonymous=False) < whale
    assert pricing.queue_rank(now - pricing.ANONYMOUS_PENALTY - 1, 0, anonymous=True) < poor


def test_uptime_reward() -> None:
    assert pricing.uptime_reward(3600, 50) == 50
    assert pricing.uptime_reward(600, 50) == 8
    assert pricing.uptime_reward(10, 50) == 0
