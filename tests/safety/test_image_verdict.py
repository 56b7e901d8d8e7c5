"""The image verdict on score vectors: both groups needed, control concepts and prompt nudges."""

from __future__ import annotations

from horde_core.safety.image_verdict import decide


def test_both_groups_are_needed() -> None:
    assert not decide({"child": 0.26}).csam
    adult_nude = decide({"nude": 0.27})
    assert adult_nude.nsfw and not adult_nude.csam
    verdict = decide({"child": 0.26, "nude": 0.27})
    assert verdict.csam and verdict.underage == ["child"] and verdict.sexual == ["nude"]


def test_pregnancy_raises_the_bar_for_infant() -> None:
    scores = {"infant": 0.245, "nude": 0.26}
    assert decide(scores).csam
    assert not decide({**scores, "pregnant": 0.28}).csam  # a pregnant belly is not an infant
    assert decide({**scores, "infant": 0.30, "pregnant": 0.28}).csam  # a bar raised, not a veto


def test_anime_style_is_weighed_not_ignored() -> None:
    scores = {"teen": 0.235, "explicit": 0.25}
    assert decide(scores).csam
    assert not decide({**scores, "anime": 0.25}).csam
    assert decide({"teen": 0.29, "explicit": 0.25, "anime": 0.25}).csam


def test_the_prompt_nudges_a_little() -> None:
    borderline = {"kid": 0.215, "naked": 0.25}
    assert decide(borderline).csam
    assert not decide(borderline, prompt_adult=True).csam
    assert decide({"kid": 0.205, "naked": 0.25}, prompt_underage=True).csam
    assert decide({"kid": 0.205, "naked": 0.25}, negative_avoids_adult=True).csam
    assert not decide({"kid": 0.205, "naked": 0.25}).csam
    assert not decide({"kid": 0.10, "naked": 0.25}, prompt_underage=True, negative_avoids_adult=True).csam


def test_clean_images_pass() -> None:
    verdict = decide({"child": 0.27, "kid": 0.26, "lingerie": 0.12})
    assert not verdict.csam and not verdict.nsfw
