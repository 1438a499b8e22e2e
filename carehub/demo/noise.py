"""The defects real exports carry: typos, missing and full-width IDs, bad checksums, conflicting birth dates."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from carehub.demo.services import Rows
from carehub.identifiers.resident_id import check_char

_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
#: Characters clerks confuse when typing names by pinyin or by shape.
_CONFUSED = dict(zip("王汪黄张章李刘陈程林杨周吴徐孙马朱胡郭何高罗", "汪王皇章张理柳程陈琳扬舟伍许荪玛珠湖国河膏萝", strict=True))
#: Informational name and birth-date columns beside the canonical ones.
NAME_KEYS, BIRTH_KEYS = ("姓名", "person.name"), ("person.birthDate",)


@dataclass(frozen=True)
class Noise:
    """Share of rows of a person source with each defect; a row has at most one that rejects it."""

    bad_checksum: float = 0.01  # rejected: resident_id.checksum
    missing_id: float = 0.01  # rejected: missing (civil-affairs exports only)
    birth_conflict: float = 0.01  # registry: rejected (birth_date.matches_id); elsewhere a conflicting extra column
    full_width: float = 0.03  # accepted: normalised
    typo: float = 0.03  # accepted: a name differing between sources


#: Which defects each record type's source has: the registry is cleaner than the exports.
DEFECTS = {
    "registry.person": ("bad_checksum", "birth_conflict", "full_width"),
    "registry.death": ("full_width",),
    "registry.household_move": ("full_width",),
    "health.checkup": ("bad_checksum", "birth_conflict", "full_width", "typo"),
    "health.family_doctor_contract": ("bad_checksum", "full_width", "typo"),
    "civil_affairs.enrolment": ("bad_checksum", "missing_id", "full_width", "typo"),
    "civil_affairs.capability_assessment": ("bad_checksum", "missing_id", "full_width", "typo"),
    "civil_affairs.subsidy_payment": ("bad_checksum", "missing_id", "full_width", "typo"),
    "civil_affairs.service_record": ("missing_id", "full_width"),
    "civil_affairs.practitioner": ("bad_checksum", "full_width"),
}


def _typo(name: str, rng: random.Random) -> str:
    spots = [i for i, c in enumerate(name) if c in _CONFUSED]
    if not spots:
        return name
    i = rng.choice(spots)
    return name[:i] + _CONFUSED[name[i]] + name[i + 1:]


def _shifted(day: str, rng: random.Random) -> str:
    return (date.fromisoformat(day) + timedelta(days=rng.choice((-365, -31, -1, 1, 31)))).isoformat()


def add_noise(rows: Rows, seed: int, noise: Noise = Noise()) -> dict[str, Counter]:
    """Damage unplanted rows in place; returns the rejections expected per record type, by rule."""
    rng = random.Random(f"{seed}-noise")
    expected: dict[str, Counter] = {}
    for record, defects in DEFECTS.items():
        expected[record] = Counter()
        for row in rows.get(record, []):
            if row.get("_planted"):
                continue
            rid = str(row["resident_id"])
            if "bad_checksum" in defects and rng.random() < noise.bad_checksum:
                row["resident_id"] = rid[:17] + next(c for c in "0123456789X" if c != check_char(rid[:17]))
                expected[record]["resident_id.checksum"] += 1
            elif "missing_id" in defects and rng.random() < noise.missing_id:
                row["resident_id"] = None
                expected[record]["missing"] += 1
            elif "birth_conflict" in defects and rng.random() < noise.birth_conflict:
                if "birth_date" in row:
                    row["birth_date"] = _shifted(str(row["birth_date"]), rng)
                    expected[record]["birth_date.matches_id"] += 1
                for key in BIRTH_KEYS:
                    if key in row:
                        row[key] = _shifted(str(row[key]), rng)
            elif "full_width" in defects and rng.random() < noise.full_width:
                row["resident_id"] = rid.translate(_FULL_WIDTH)
            if "typo" in defects and rng.random() < noise.typo:
                for key in NAME_KEYS:
                    if key in row:
                        row[key] = _typo(str(row[key]), rng)
    return {record: counts for record, counts in expected.items() if counts}
