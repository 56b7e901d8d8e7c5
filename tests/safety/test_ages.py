"""Numeric ages: under 18 is underage evidence, 18 and over adult context, durations and objects are neither."""

from __future__ import annotations

import pytest

from horde_core.safety.prompt_filter import PromptFilter
from horde_core.safety.prompt_filter.ages import find_ages


@pytest.mark.parametrize(("text", "age"), [
    ("12 year old", 12), ("12yo", 12), ("12 y/o", 12), ("12 y.o.", 12), ("12-year-old", 12), ("aged 9", 9),
    ("9yo", 9), ("age 15", 15), ("age: 13", 13), ("twelve year old", 12), ("a nine-year-old", 9),
    ("12 yrs old", 12), ("12 years", 12), ("girl, 11", 11), ("girl, about ten", 10), ("6 months old", 0),
    ("5th grader", 10), ("fifth grade", 10), ("12 años", 12), ("doce años", 12), ("12 Jahre alt", 12),
    ("12-jährige", 12), ("12 ans", 12), ("dix-sept ans", 17), ("12 anos", 12), ("12 anni", 12), ("12 лет", 12),
    ("12-летняя", 12), ("двенадцать лет", 12), ("12歳", 12), ("十二歳", 12), ("12 уо", 12),  # noqa: RUF001
    ("30 year old", 30), ("18+", 18), ("over 21", 21),
])
def test_ages_are_found(text: str, age: int) -> None:
    found = find_ages(text.casefold())
    assert [h.age for h in found] == [age], found


@pytest.mark.parametrize("text", [
    "12 years later", "married for 12 years", "hace 12 años", "il y a 12 ans", "12 anni fa", "a 12 year old whisky",
    "4k, 8k, 85mm", "1girl, 2boys", "girl 1 and girl 2", "girl with 5 cats", "girl, 11.5mm", "sweet 16", "10:30",
])
def test_durations_objects_and_labels_are_not_ages(text: str) -> None:
    assert find_ages(text.casefold()) == []


def test_ages_under_18_are_hard_underage_evidence(pf: PromptFilter) -> None:
    verdict = pf.check("woman, 12 years old, nude, adult, mature")
    assert verdict.blocked and any("age 12" in m for m in verdict.matches)


def test_ages_of_18_and_over_are_adult_context(pf: PromptFilter) -> None:
    assert pf.check("sexy teen girl, nude").blocked
    assert not pf.check("sexy teen girl, 19 years old, nude").blocked
    assert not pf.check("30 year old woman, nude").blocked


def test_an_adult_age_in_the_negative_is_steering(pf: PromptFilter) -> None:
    assert pf.check("nude girl", "30 years old").score > pf.check("nude girl").score
