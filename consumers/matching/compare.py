"""Compare two identities field by field: the agreement level of each field, or None where one side is missing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from jellyfish import jaro_winkler_similarity

from consumers.matching.identity import Identity, clean_name, county, fuzzy_pinyin, known_sex, name_pinyin

#: Jaro-Winkler similarity of the pinyin of two names that differ in sound, highest first:
#: 王秀英/王秀兰 ("wang xiu ying"/"wang xiu lan", 0.92) are similar.
NAME_SIMILARITY = ((0.94, "close"), (0.85, "similar"))


def _transposed(a: date, b: date) -> bool:
    return a.year == b.year and (a.month, a.day) == (b.day, b.month)


def _year_off(a: date, b: date) -> bool:
    """A year apart, give or take the day a leap year adds: 1952-09-21 shifted back 365 days is
    1951-09-22."""
    return abs(abs((a - b).days) - 365) <= 1


#: Birth-date agreement, first that holds wins; "different" when none does. The levels follow how
#: clerks get a date wrong: a wrong day, day and month swapped, a year off, a month off.
BIRTH_DATE_LEVELS: tuple[tuple[str, Callable[[date, date], bool]], ...] = (
    ("exact", lambda a, b: a == b),
    ("transposed", _transposed),
    ("same_year_month", lambda a, b: (a.year, a.month) == (b.year, b.month)),
    ("year_off", _year_off),
    ("within_31_days", lambda a, b: abs((a - b).days) <= 31),
    ("within_a_year", lambda a, b: abs((a - b).days) <= 366),
)
#: Division agreement by the length of the shared GB/T 2260 prefix: county, prefecture, province.
DIVISION_LEVELS = (("county", 6), ("prefecture", 4), ("province", 2))


def compare_name(a: str | None, b: str | None) -> str | None:
    a, b = clean_name(a), clean_name(b)
    if a is None or b is None:
        return None
    if a == b:
        return "exact"
    sound_a, sound_b = name_pinyin(a), name_pinyin(b)
    if sound_a == sound_b:
        return "homophone"
    if fuzzy_pinyin(a) == fuzzy_pinyin(b):
        return "fuzzy_homophone"
    similarity = jaro_winkler_similarity(sound_a, sound_b)
    return next((level for cutoff, level in NAME_SIMILARITY if similarity >= cutoff), "different")


def compare_sex(a: str | None, b: str | None) -> str | None:
    a, b = known_sex(a), known_sex(b)
    if a is None or b is None:
        return None
    return "equal" if a == b else "different"


def compare_birth_date(a: date | None, b: date | None) -> str | None:
    if a is None or b is None:
        return None
    return next((level for level, holds in BIRTH_DATE_LEVELS if holds(a, b)), "different")


def compare_division(a: str | None, b: str | None) -> str | None:
    a, b = county(a), county(b)
    if a is None or b is None:
        return None
    return next((level for level, digits in DIVISION_LEVELS if a[:digits] == b[:digits]), "different")


#: Each compared field, its comparison, and every level that comparison can answer.
COMPARISONS: tuple[tuple[str, Callable[[Identity, Identity], str | None], tuple[str, ...]], ...] = (
    ("name", lambda a, b: compare_name(a.name, b.name),
     ("exact", "homophone", "fuzzy_homophone", *(level for _, level in NAME_SIMILARITY), "different")),
    ("sex", lambda a, b: compare_sex(a.sex, b.sex), ("equal", "different")),
    ("birth_date", lambda a, b: compare_birth_date(a.birth_date, b.birth_date),
     (*(level for level, _ in BIRTH_DATE_LEVELS), "different")),
    ("division", lambda a, b: compare_division(a.division, b.division),
     (*(level for level, _ in DIVISION_LEVELS), "different")),
)


def compare(a: Identity, b: Identity) -> dict[str, str | None]:
    """The agreement level of every compared field; None for a field either side lacks."""
    return {field: comparison(a, b) for field, comparison, _ in COMPARISONS}
