"""Normalisation undoes each obfuscation family, so one plain term list matches them all."""

from __future__ import annotations

import pytest

from horde_core.safety.prompt_filter.normalize import fold_text, normalize, squeeze, term_key


def forms(text: str) -> list[set[str]]:
    """Every spelling of every token of ``text``."""
    return [set(t.forms) for t in normalize(text).tokens]


def has(text: str, word: str) -> bool:
    return any(word in f for f in forms(text))


@pytest.mark.parametrize(("text", "word"), [
    ("ｎａｋｅｄ", "naked"),  # noqa: RUF001 - fullwidth
    ("𝐧𝐚𝐤𝐞𝐝", "naked"),  # noqa: RUF001 - mathematical bold
    ("𝓷𝓪𝓴𝓮𝓭", "naked"),  # noqa: RUF001 - mathematical script
    ("ⓝⓐⓚⓔⓓ", "naked"),  # circled
    ("🅝🅐🅚🅔🅓", "naked"),  # negative circled
    ("🄽🄰🄺🄴🄳", "naked"),  # squared
    ("🇳🇦🇰🇪🇩", "naked"),  # regional indicators
    ("ɴᴀᴋᴇᴅ", "naked"),  # small capitals
    ("nаkеd", "naked"),  # noqa: RUF001 - Cyrillic a and e inside a Latin word
    ("сhild", "child"),  # noqa: RUF001 - Cyrillic c
    ("ΝΑΚΕD", "naked"),  # noqa: RUF001 - Greek capitals
    ("ѕеху", "sexy"),  # noqa: RUF001 - all-Cyrillic look-alikes
])
def test_lookalikes_fold_to_latin(text: str, word: str) -> None:
    assert has(text, word)


@pytest.mark.parametrize("text", [
    "na\u200bked", "na\u200cked", "na\u200dked", "na\u2060ked", "na\ufeffked", "na\u00adked", "na\u180eked",
    "n\u200ba\u200bk\u200be\u200bd",
])
def test_zero_width_and_invisible_characters_vanish(text: str) -> None:
    assert has(text, "naked")


@pytest.mark.parametrize(("text", "word"), [
    ("nákéd", "naked"), ("chïld", "child"), ("nu\u0301de", "nude"), ("n̶a̶k̶e̶d̶", "naked"), ("ñaked", "naked"),
])
def test_accents_and_combining_marks_are_stripped(text: str, word: str) -> None:
    assert has(text, word)


def test_spanish_enye_is_kept_as_its_own_letter() -> None:
    assert has("niña", "niña")


@pytest.mark.parametrize(("text", "word"), [
    ("n4k3d", "naked"), ("l0l1", "loli"), ("k!d", "kid"), ("$ex", "sex"), ("@ss", "ass"), ("t33n", "teen"),
    ("ch1ld", "child"), ("5exy", "sexy"), ("|o|i", "loli"), ("|_0|_1", "loli"), ("n00d", "nood"),
])
def test_leetspeak_is_decoded(text: str, word: str) -> None:
    assert has(text, word)


@pytest.mark.parametrize("text", ["n.a.k.e.d", "n a k e d", "n-a-k-e-d", "n_a_k_e_d", "n*a*k*e*d", "n|a|k|e|d",
                                  "n . a . k . e . d"])
def test_separators_between_single_letters_collapse(text: str) -> None:
    assert forms(text) == [forms("naked")[0]] or has(text, "naked")


def test_letter_runs_are_joined_word_by_word() -> None:
    assert [t.text for t in normalize("l.i.t.t.l.e g.i.r.l").tokens] == ["little", "girl"]


@pytest.mark.parametrize(("text", "word"), [("naaaaked", "naked"), ("chiiiild", "child"), ("teeeeen", "teen"),
                                            ("kiiiddd", "kid")])
def test_repeated_letters_squeeze(text: str, word: str) -> None:
    assert has(text, word)


def test_ordinary_double_letters_are_left_alone() -> None:
    assert not has("soon", "son") and not has("kitten", "kiten")
    assert squeeze("naaakkked") == "naked"


@pytest.mark.parametrize("text", ["(loli:1.3)", "((loli))", "[loli]", "{loli}", "loli:1.2", "(((loli)))",
                                  "[[loli]]", "<lora:loli:0.8>"])
def test_prompt_weight_syntax_is_removed(text: str) -> None:
    assert has(text, "loli")


@pytest.mark.parametrize(("emoji", "word"), [("👶", "baby"), ("🧒", "child"), ("👧", "child"), ("👦", "child"),
                                             ("🍆", "emojieggplant"), ("🔞", "nsfw"), ("💦", "emojidroplets")])
def test_emoji_become_words(emoji: str, word: str) -> None:
    assert has(emoji, word) and has(f"naked{emoji}", word)


def test_russian_is_transliterated_and_japanese_kept_for_the_cjk_stream() -> None:
    assert has("девочка", "devochka")
    norm = normalize("ﾛﾘ の 絵")  # halfwidth katakana becomes fullwidth
    assert norm.cjk == "ロリの絵"


def test_views_map_back_to_original_words() -> None:
    norm = normalize("a  (little:1.2)   girl,  nude")
    assert norm.words == ("a", "(little:1.2)", "girl,", "nude")
    assert [(t.text, t.first) for t in norm.tokens] == [("a", 0), ("little", 1), ("girl", 2), ("nude", 3)]
    assert norm.stream == "alittlegirlnude"
    assert norm.text.count(" ") == len(norm.words) - 1


def test_terms_are_normalised_like_prompts() -> None:
    assert term_key("Mädchen") == (("madchen",), False)
    assert term_key("little-girl") == (("little", "girl"), False)
    assert term_key("ロリ") == (("ロリ",), True)
    assert fold_text("ascii stays") == "ascii stays"
