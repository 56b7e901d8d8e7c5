"""Matching: both groups must be present; each language, slang, compounds, safe phrases and contexts."""

from __future__ import annotations

import pytest

from horde_core.safety.prompt_filter import PromptFilter, Verdict


def test_children_alone_and_adult_nudity_alone_pass(pf: PromptFilter) -> None:
    child = pf.check("a child flying a kite")
    assert not child.blocked and child.groups == ["underage"] and child.sexual == 0
    adult = pf.check("nude woman, classical oil painting")
    assert not adult.blocked and adult.groups == ["sexual"] and adult.score == 0


def test_both_groups_block_and_the_verdict_explains_itself(pf: PromptFilter) -> None:
    verdict = pf.check("naked child on a beach")
    assert isinstance(verdict, Verdict)
    assert verdict.blocked and verdict.groups == ["underage", "sexual"]
    assert "underage:child" in verdict.matches and "sexual:naked" in verdict.matches
    assert any("blocked" in r for r in verdict.reasons)
    assert verdict.to_dict()["blocked"] is True


@pytest.mark.parametrize("prompt", [
    "niña desnuda", "nacktes Kind", "fillette nue", "criança nua", "bambina nuda", "голая девочка",
    "golaya devochka", "裸の幼女", "ロリ エロ", "loli hadaka", "shougakusei nude",
])
def test_other_languages_block(pf: PromptFilter, prompt: str) -> None:
    assert pf.check(prompt).blocked, prompt


@pytest.mark.parametrize("prompt", [
    "niños jugando al fútbol", "Kinder spielen im Park", "femme nue, peinture", "mulher nua, arte",
    "дети играют", "子供たちが公園で遊ぶ", "カロリー計算", "a kind woman, nude painting", "niño haciendo un nudo",
    "bambino con la mano alzata",
])
def test_other_languages_pass_when_harmless(pf: PromptFilter, prompt: str) -> None:
    assert not pf.check(prompt).blocked, prompt


@pytest.mark.parametrize("prompt", ["loli, nsfw", "shota, lewd", "jailbait nudes", "toddlercon", "cunny, nsfw"])
def test_slang(pf: PromptFilter, prompt: str) -> None:
    assert pf.check(prompt).blocked


@pytest.mark.parametrize("prompt", ["nakedchild", "sexykid", "lolinude", "kidporn", "#nakedkids", "Kinderporno"])
def test_run_together_words_are_split(pf: PromptFilter, prompt: str) -> None:
    assert pf.check(prompt).blocked


@pytest.mark.parametrize("prompt", [
    "teenage mutant ninja turtles, sexy april o'neil, adult woman", "young adult novel cover",
    "lolipop candy, sexy woman",
    "baby blue lingerie, sexy woman", "gothic lolita fashion, sexy woman", "nude lipstick, sexy girl, adult",
    "kitten", "old man", "pregnant woman, nude, maternity photo", "sussex countryside, nude statue",
    "hot dog stand, kids", "breastfeeding mother and baby", "1girl, 1boy, adults, nude",
])
def test_safe_phrases_and_benign_look_alikes_pass(pf: PromptFilter, prompt: str) -> None:
    assert not pf.check(prompt).blocked, pf.check(prompt).matches


def test_adult_context_lowers_soft_evidence_only(pf: PromptFilter) -> None:
    assert pf.check("sexy teen girl").blocked
    assert not pf.check("sexy teen girl, 19 years old, adult woman").blocked
    # hard evidence survives any amount of adult context ("1000 year old" vampire loli is still a loli)
    assert pf.check("1000 year old vampire loli, adult, mature, nude").blocked
    assert pf.check("adult woman with a child, nude").blocked


def test_pairs_make_modifier_and_noun_count_together(pf: PromptFilter) -> None:
    apart = pf.check("a little blonde girl, nude")
    assert apart.blocked and any("pair:" in m for m in apart.matches)
    assert not pf.check("a little house, nude woman").blocked


def test_a_repeated_word_counts_once(pf: PromptFilter) -> None:
    once, many = pf.check("girl, nude"), pf.check("girl, girl, girl, girl, nude")
    assert once.score == many.score and not many.blocked


def test_one_token_spelt_in_several_lists_counts_once(pf: PromptFilter) -> None:
    assert pf.check("лоли").score == pf.check("loli").score


def test_custom_term_set_from_a_plain_dict() -> None:
    terms = {"groups": {"underage": {"en": {"gnome": 1.0}}, "sexual": {"en": {"spicy": 1.0}}},
             "hard": ["gnome"]}
    custom = PromptFilter(terms)
    assert custom.check("spicy gnome").blocked
    assert not custom.check("naked child").blocked  # only its own terms count


def test_bad_term_sets_are_rejected() -> None:
    with pytest.raises(ValueError):
        PromptFilter({"nope": 1})
    with pytest.raises(ValueError):
        PromptFilter({"groups": {"underage": {"en": {"kid": "heavy"}}}})
    with pytest.raises(ValueError):
        PromptFilter({"groups": {}, "pairs": [{"a": ["x"]}]})


def test_threshold_edges_are_inclusive(pf: PromptFilter) -> None:
    verdict = pf.check("teen, nude")  # exactly 1.0 and 1.0
    assert verdict.score == pytest.approx(1.0) and verdict.sexual == pytest.approx(1.0) and verdict.blocked


def test_empty_and_odd_input(pf: PromptFilter) -> None:
    for prompt in ["", "   ", "###", "!!!", "\u200b\u200b", "🙂", "(((:1.2)))", "a" * 5000]:
        verdict = pf.check(prompt)
        assert not verdict.blocked


def test_phrases_stop_at_tag_boundaries(pf: PromptFilter) -> None:
    assert not pf.check("nude color shoes, a child on the sofa").blocked  # "nude color" is a colour
    assert pf.check("nude, color grading, child").blocked  # here "nude" is its own tag
    assert pf.check("little, girl, nude").blocked  # nearby modifiers still pair up across tags
