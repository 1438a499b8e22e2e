"""Blocking keys: the few short strings under which an identity is filed, so that it meets only likely matches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from consumers.matching.identity import Identity, clean_name, county, fuzzy_pinyin

HALF_YEAR = timedelta(days=183)


def _sound(identity: Identity) -> str | None:
    name = clean_name(identity.name)
    return fuzzy_pinyin(name).replace(" ", "") if name else None


def _day(identity: Identity) -> str | None:
    return identity.birth_date.strftime("%Y%m%d") if identity.birth_date else None


def _year(identity: Identity) -> str | None:
    return f"{identity.birth_date.year:04d}" if identity.birth_date else None


def _half_year_later(identity: Identity) -> str | None:
    """The year of the birth date plus half a year: two dates less than half a year apart share
    this or the calendar year, even across New Year."""
    return f"{(identity.birth_date + HALF_YEAR).year:04d}" if identity.birth_date else None


def _month(identity: Identity) -> str | None:
    return f"{identity.birth_date.month:02d}" if identity.birth_date else None


def _county(identity: Identity) -> str | None:
    return county(identity.division)


#: Each key: a tag and the parts it joins. The name sound is the fuzzy pinyin, the same for 王/汪
#: and for 陈/程. A record with one defect keeps at least one key of its elder:
#: - sound + birth date:           survives another division, a missing sex, a typo by sound;
#: - birth date + county:          survives any name typo and a missing sex;
#: - sound + birth year + county, and again with the year of the date half a year later:
#:   survive a day or a month off (across New Year too) and day and month swapped;
#: - sound + birth month + county: survives a year off.
#: Only the first key spans counties, and it holds a full name and birth date, so blocks grow with
#: a county's elders, not with the dataset. Sex is in no key: many no-ID records lack it.
BLOCKING_KEYS: tuple[tuple[str, tuple[Callable[[Identity], str | None], ...]], ...] = (
    ("nd", (_sound, _day)),
    ("dc", (_day, _county)),
    ("nyc", (_sound, _year, _county)),
    ("nhc", (_sound, _half_year_later, _county)),
    ("nmc", (_sound, _month, _county)),
)


def blocking_keys(identity: Identity) -> list[str]:
    """The keys of every blocking rule whose parts the identity has, e.g. "nd|wanxiuyin|19500312";
    two identities are compared only when they share a key."""
    keys = []
    for tag, parts in BLOCKING_KEYS:
        values = [part(identity) for part in parts]
        if all(values):
            keys.append("|".join((tag, *values)))
    return keys
