"""The negative prompt counts: avoided adult traits raise the underage score as a weight, child terms lower it."""

from __future__ import annotations

import pytest

from horde_core.safety.prompt_filter import PromptFilter, split_negative

ADULT_TRAITS = ["adult", "mature", "woman", "large breasts", "pubic hair", "wrinkles", "beard", "old"]


def test_split_negative_reads_the_ai_horde_separator() -> None:
    assert split_negative("a cat ### dog", "") == ("a cat ", "dog")
    assert split_negative("a cat ### dog", "bird") == ("a cat ", "dog bird")
    assert split_negative("a cat", "bird") == ("a cat", "bird")


def test_steering_is_a_monotonic_weight(pf: PromptFilter) -> None:
    scores = [pf.check("nude girl", ", ".join(ADULT_TRAITS[:n])).score for n in range(len(ADULT_TRAITS) + 1)]
    assert scores == sorted(scores)  # never decreases as traits are added
    assert scores[0] < scores[1] < scores[3]  # and each early trait adds something
    assert len(set(scores)) > 4  # a graded weight, not a switch
    assert scores[-1] - scores[0] <= 1.5 + 1e-9  # and it saturates


def test_steering_flips_a_borderline_prompt(pf: PromptFilter) -> None:
    assert not pf.check("nude girl").blocked
    assert not pf.check("nude girl", "ugly, old, wrinkles, bad anatomy").blocked  # a common benign negative
    assert pf.check("nude girl", "adult, mature, woman, large breasts").blocked
    assert pf.check("nude girl ### adult, mature, woman, large breasts").blocked  # same, AI Horde style


def test_steering_needs_sexual_content_in_the_prompt(pf: PromptFilter) -> None:
    plain = pf.check("portrait of a girl, smiling", "adult, mature, old, woman, large breasts")
    assert not plain.blocked and plain.score == pytest.approx(pf.check("portrait of a girl, smiling").score)


def test_steering_scales_with_how_sexual_the_prompt_is(pf: PromptFilter) -> None:
    weak = pf.check("girl in a bikini", "adult, mature, woman").score
    strong = pf.check("girl, nude", "adult, mature, woman").score
    assert weak < strong


def test_steering_alone_without_underage_terms_does_not_block_adult_content(pf: PromptFilter) -> None:
    assert not pf.check("nude woman, art photo", "ugly, old, wrinkles, deformed").blocked
    assert not pf.check("sexy woman in a bikini", "adult, mature").blocked


def test_child_terms_in_the_negative_count_against_underage(pf: PromptFilter) -> None:
    base = pf.check("nude girl, petite").score
    guarded = pf.check("nude girl, petite", "child, loli, teen, young").score
    assert guarded < base


def test_child_terms_in_the_negative_cannot_excuse_hard_evidence(pf: PromptFilter) -> None:
    assert pf.check("naked child", "child, kid, loli").blocked


def test_negative_matches_are_reported(pf: PromptFilter) -> None:
    verdict = pf.check("nude girl", "adult, mature")
    assert "negative:steer:adult" in verdict.matches and any("negative prompt" in r for r in verdict.reasons)
