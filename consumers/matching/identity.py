"""What a record says about who a person is, and the normalised forms the matcher compares."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

#: GB/T 2261.1 sex codes that say something; "0" unknown and "9" unspecified say nothing.
KNOWN_SEXES = frozenset({"1", "2"})
#: Characters that separate parts of a name without being part of it: spaces and the middle dots
#: of minority and foreign names (·, ・, •).
_NAME_SEPARATORS = str.maketrans("", "", " \t·・•")
#: Sounds that speakers of southern Mandarin and Wu (the pilot is in Suzhou) do not tell apart, so
#: clerks typing by pinyin swap them (模糊音): retroflex and flat initials, front and back nasal finals.
#: Each pair maps a syllable's start or end to the form both share.
FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
FUZZY_FINALS = (("ng", "n"),)


@dataclass(frozen=True)
class Identity:
    """The identity hints of one record or one elder; None where the source has no value."""

    name: str | None
    sex: str | None
    birth_date: date | None
    division: str | None


@lru_cache(maxsize=200_000)
def clean_name(name: str | None) -> str | None:
    """The name as written, without width variants and separators; None if nothing is left."""
    if name is None:
        return None
    cleaned = unicodedata.normalize("NFKC", name).translate(_NAME_SEPARATORS).lower()
    return cleaned or None


@lru_cache(maxsize=200_000)
def name_pinyin(name: str) -> str:
    """The toneless pinyin of a cleaned name, syllables joined by spaces: 王秀英 and 汪秀英 are both
    "wang xiu ying". Clerks type names by pinyin, so homophones are the common typo."""
    return " ".join(lazy_pinyin(name, style=Style.NORMAL))


def _fuzzy_syllable(syllable: str) -> str:
    for heard, shared in FUZZY_INITIALS:
        if syllable.startswith(heard):
            syllable = shared + syllable[len(heard):]
    for heard, shared in FUZZY_FINALS:
        if syllable.endswith(heard):
            syllable = syllable[: -len(heard)] + shared
    return syllable


@lru_cache(maxsize=200_000)
def fuzzy_pinyin(name: str) -> str:
    """The pinyin of a cleaned name with easily confused sounds merged: 陈 "chen" and 程 "cheng" are
    both "cen"."""
    return " ".join(_fuzzy_syllable(syllable) for syllable in name_pinyin(name).split(" "))


def known_sex(sex: str | None) -> str | None:
    return sex if sex in KNOWN_SEXES else None


def county(division: str | None) -> str | None:
    """The 6-digit county code, or None for a missing or malformed one."""
    return division if division and len(division) == 6 and division.isdigit() else None
