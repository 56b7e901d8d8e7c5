"""Numeric and spelled-out ages: under 18 is underage evidence, 18 and over is adult context.

A term list cannot hold "12yo", "12 y/o", "twelve-year-old", "12 años", "12 Jahre alt", "12歳" ... so ages
are patterns over the folded prompt text.  Number words are spelt as digits first, so two scanners cover
every language.  Guards keep durations and objects out: "12 years later", "hace 12 años", "a 12 year old
whisky" are not people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from horde_core.safety.prompt_filter._tables import CYRILLIC_TRANSLIT

__all__ = ["AgeHit", "age_units", "age_words", "find_ages", "guard_words", "number_words", "person_words"]

_WORDS: dict[str, int] = {}
for _lang in (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty",
    "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciseis "
    "diecisiete dieciocho diecinueve veinte",
    "null eins zwei drei vier funf sechs sieben acht neun zehn elf zwolf dreizehn vierzehn funfzehn sechzehn "
    "siebzehn achtzehn neunzehn zwanzig",
    "zero un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize dix-sept "
    "dix-huit dix-neuf vingt",
    "zero um dois tres quatro cinco seis sete oito nove dez onze doze treze catorze quinze dezesseis "
    "dezessete dezoito dezenove vinte",
    "zero uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici quattordici quindici "
    "sedici diciassette diciotto diciannove venti",
    "ноль один два три четыре пять шесть семь восемь девять десять одиннадцать двенадцать тринадцать "
    "четырнадцать пятнадцать шестнадцать семнадцать восемнадцать девятнадцать двадцать",
):
    for _value, _word in enumerate(_lang.split()):
        _WORDS.setdefault(_word, _value)
for _word, _value in {"uma": 1, "ein": 1, "eine": 1, "una": 1, "quatorze": 14, "dezasseis": 16,
                      "dezassete": 17, "dezanove": 19}.items():
    _WORDS.setdefault(_word, _value)
for _tens, _value in {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                      "ninety": 90, "treinta": 30, "cuarenta": 40, "dreissig": 30, "vierzig": 40, "trente": 30,
                      "quarante": 40, "trinta": 30, "quarenta": 40, "trenta": 30, "quaranta": 40,
                      "тридцать": 30, "сорок": 40}.items():
    _WORDS[_tens] = _value
for _word, _value in list(_WORDS.items()):  # Russian number words as the normaliser spells them in Latin
    if not _word.isascii():
        _WORDS.setdefault(_word.translate(CYRILLIC_TRANSLIT), _value)
_KANJI = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
             "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12}
_NOT_PEOPLE = (
    "whisky|whiskey|scotch|bourbon|wine|rum|cognac|brandy|cheese|car|cars|truck|house|home|tree|trees|oak|"
    "building|castle|church|bridge|dog|dogs|cat|cats|horse|tortoise|turtle|painting|photo|photograph|map|book|"
    "tradition|recipe|company|brand|shoes|jeans|computer|laptop|phone|game|record|vinyl|guitar|violin|bottle|"
    "barrel|cask|ruins|temple|forest|fossil|statue|sword|coin|stamp|camera|film|movie|song|album|fence|barn|"
    "boat|ship|plane|motorcycle|bike|sofa|table|chair|machine|engine|tractor|cabin|mansion|vintage|single malt"
)
_PERSON = "girl|boy|kid|child|teen|daughter|son|niece|nephew|student|nina|nino|madchen|fille|menina|bambina"
_NOT_AGE_UNIT = ("stars?|mm|cm|px|k|pts|points|times|x|people|persons|girls|boys|kids|children|of|out|min|minutes|"
                 "hours|days|feet|ft|m|kg|lbs|inch|inches|percent|dollars|euros|pm|am|o'clock|cats|dogs|friends|times|"
                 "more|other|others|and|or|in")
_DURATION_AFTER = (
    r"later|ago|after|before|since|earlier|back|from|in\s+prison|of\s+(?:experience|marriage|service|war)|"
    r"despues|atras|antes|mas\s+tarde|spater|danach|plus\s+tard|apres|depois|fa|dopo|назад|спустя"
)
_DURATION_BEFORE = r"\b(?:hace|vor|il\s+y\s+a|depuis|ha|há|for|over|since|during|durante|seit|pendant|per|da)\s+"


@dataclass(frozen=True, slots=True)
class AgeHit:
    """An age found in the text, with its character span in the folded text."""

    age: int
    start: int
    end: int
    text: str


_WORDISH = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_DIGIT = re.compile(r"\d")
_KANJI_AGE = re.compile(r"([一二三四五六七八九十]{1,3})\s*(?:歳|才|さい)")


@cache
def _word_set() -> frozenset[str]:
    return frozenset(_WORDS) | frozenset(_ORDINALS)


# Words the patterns read after a number, folded like a prompt (accents off, ñ kept, Russian in Latin).
_UNITS = ("year years yr yrs yo y o old young anos años añitos anitos anni ans jahre jahr jahrig jahrige jahrigen "
          "jahriger jahriges jaehrig jaehrige alt alte alter alten altes let letnyaya letniy letnij letnego "
          "letney godik godika month months mo mos meses monate monaten mois mesi grade grader graders")
_CUES = "age aged ages of edad alter von idade eta over above older than mayor uber plus maggiore di de"
# Words of the guards (objects with an age, durations), so "sssscotcccch" and "whiksy" still guard.
_GUARDS = ("later ago after before since earlier back from prison experience marriage service war despues atras "
           "antes tarde spater danach tard apres depois dopo hace vor depuis during durante seit pendant people "
           "persons points times minutes hours days feet inch inches percent dollars euros friends others more")


def number_words() -> frozenset[str]:
    """Number words in every language served, ordinals included ("twelve", "doce", "dvenadtsat", "fifth")."""
    return _word_set()


@cache
def age_units() -> frozenset[str]:
    """Words that make the number before them an age ("years", "yo", "años", "Jahre", "лет" as "let")."""
    return frozenset(_UNITS.split())


@cache
def age_words() -> frozenset[str]:
    """Every word the age patterns read besides digits: units, cue words, person words and number words.

    The normaliser resolves prompt words to these the way it resolves terms (leetspeak, repeats, typos,
    letters spaced out), so ``y34r``, ``yeeears`` and ``yaers`` reach the patterns as ``years``."""
    numbers = {part for word in _word_set() for part in word.split("-") if part.isalpha() and part.isascii()}
    numbers |= {w for w in _word_set() if w.isascii() and w.isalpha()}
    objects = {w for w in _NOT_PEOPLE.replace(" ", "|").split("|") if w}
    return (age_units() | frozenset(_CUES.split()) | frozenset(_PERSON.split("|")) | frozenset(numbers)
            | frozenset(_GUARDS.split()) | frozenset(objects))


def person_words() -> frozenset[str]:
    """Words for a person that an age may follow ("girl, 10")."""
    return frozenset(_PERSON.split("|"))


@cache
def guard_words() -> frozenset[str]:
    """Objects and durations that keep a number from being an age (worth a typo guess: "whiksy")."""
    return frozenset(_GUARDS.split()) | frozenset(w for w in _NOT_PEOPLE.replace(" ", "|").split("|") if w)


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Two scanners, compiled on first use (not at import): ages written after the number ("12 yo",
    "12 años", "12歳", "12+") and ages written after a cue word ("aged 12", "over 18", "girl, 12")."""
    sep = r"[\s\-_]*"
    year = r"(?:years?|yrs?|yr|y)"
    en = (rf"(?:{year}{sep}(?:old|of{sep}age|young)\b|[yу]\s*[/.\\\-]?\s*[oо]\b\.?|[yу][oо]\b|"  # noqa: RUF001 (Cyrillic look-alikes)
          rf"yrs?\b(?!{sep}(?:old|of))|years?\b(?!{sep}(?:old|of|young|{_DURATION_AFTER})))(?!{sep}(?:{_NOT_PEOPLE})\b)")
    other = (r"(?:anos|años|añitos|anitos|anni|ans|jahre?\s*alte?[nrs]?|j(?:a|ä|ae)hrige?[nrs]?|jahre\b|"
             rf"лет(?:н\w*)?|годик\w*|года?\b|godik\w*|let\b|letn\w*)(?!{sep}(?:{_DURATION_AFTER})\b)")
    month = rf"(?:months?|mos?|meses|monate?n?|mois|mesi|месяц\w*){sep}(?:old|de\s+edad|alt)?\b"
    after = re.compile(
        rf"(\d{{1,4}})(?:{sep}(?P<en>{en})|{sep}(?P<other>{other})|{sep}(?P<month>{month})|"
        rf"(?:st|nd|rd|th)?\s*-?\s*(?P<grade>grade(?:rs?)?\b)|\s*(?P<plus>\+)(?!\d)|\s*(?P<kanji>歳|才|さい))",
        re.IGNORECASE)
    before = re.compile(
        rf"\b(?:(?P<aged>aged?|ages|age{sep}of|edad(?:{sep}de)?|alter(?:{sep}von)?|idade(?:{sep}de)?|eta|возраст)"
        rf"\s*[:=]?\s*|(?P<over>over|above|older\s+than|mayor\s+de|uber|über|plus\s+de|maggiore\s+di)\s+|"
        rf"(?P<person>{_PERSON})s?\s*[,:(]?\s*(?:(?:about|around|roughly|approximately|maybe|like|only|just|aged?|is|of|"
        rf"who|that|was|at)\s+){{0,2}})(\d{{1,4}})(?![\w%+]|\.\d)(?!\s*(?:{_NOT_AGE_UNIT})\b)",
        re.IGNORECASE)
    return after, before


@cache
def _before() -> re.Pattern[str]:
    return re.compile(_DURATION_BEFORE + r"$")


def _spell_out(match: re.Match[str]) -> str:
    """Number words become digits ("twelve-year-old" -> "12-year-old", "fifth" -> "5th")."""
    word = match.group()
    if word in _WORDS:
        return str(_WORDS[word])
    if word in _ORDINALS:
        return f"{_ORDINALS[word]}th"
    head, _, rest = word.partition("-")
    return f"{_WORDS[head]}-{rest}" if head in _WORDS else word


def _kanji_value(text: str) -> int:
    if "十" not in text:
        return _KANJI.get(text[0], 0) if len(text) == 1 else 0
    head, _, tail = text.partition("十")
    return (_KANJI.get(head, 1) if head else 1) * 10 + (_KANJI.get(tail, 0) if tail else 0)


def find_ages(text: str) -> list[AgeHit]:
    """Every age in ``text`` (folded and case-folded), in order.  Spans index the digit-spelt text, which
    keeps every space of the input, so a caller may map a span to a word by counting spaces."""
    numbers = _word_set()
    if any(w in numbers or w.partition("-")[0] in numbers for w in _WORDISH.findall(text)):
        text = _WORDISH.sub(_spell_out, text)
    text = _KANJI_AGE.sub(lambda m: f"{_kanji_value(m.group(1))}歳", text)
    if not _DIGIT.search(text):
        return []
    after, before = _patterns()
    hits: dict[int, AgeHit] = {}
    for match in after.finditer(text):
        if match.start() and (text[match.start() - 1].isalnum() or text[match.start() - 1] in ".,:_"):
            continue  # part of a longer number or word: "1.12 yo", "a12"
        value = int(match.group(1))
        kind = match.lastgroup
        if kind in ("en", "other") and "old" not in match.group() and _before().search(
                text, max(0, match.start() - 12), match.start()):
            continue  # "for 12 years", "hace 12 años"
        if kind == "month":
            value = 0
        elif kind == "grade":
            if value > 12:
                continue
            value += 5  # first grade is about six years old
        elif kind == "plus" and value < 18:
            continue
        hits[match.start()] = AgeHit(value, match.start(), match.end(), match.group())
    for match in before.finditer(text):
        value = int(match.group(4))
        kind = match.lastgroup if match.lastgroup in ("aged", "over", "person") else next(
            k for k in ("aged", "over", "person") if match.group(k) is not None)
        if (kind == "over" and value < 18) or (kind == "person" and not 3 <= value <= 17):
            continue  # "girl, 11" reads as an age; "girl 1" / "girl 2" are labels
        if not any(h.start <= match.start(4) < h.end for h in hits.values()):
            hits[match.start()] = AgeHit(value, match.start(), match.end(), match.group())
    return sorted(hits.values(), key=lambda h: h.start)
