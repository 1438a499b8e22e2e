"""The defects real exports carry: typos, missing and full-width IDs, bad checksums, conflicting birth dates."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from carehub.demo.services import Row, Rows
from carehub.identifiers.resident_id import check_char
from connectors.canonical import MISSING_ID_RULE, HintedPersonRecord
from connectors.records import RECORD_TYPES

_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
#: Characters clerks confuse when typing names by pinyin or by shape.
_CONFUSED = dict(zip("王汪黄张章李刘陈程林杨周吴徐孙马朱胡郭何高罗", "汪王皇章张理柳程陈琳扬舟伍许荪玛珠湖国河膏萝", strict=True))
#: The name column a typo lands in: the identity hint of health and civil-affairs rows.
NAME_KEYS = ("person_name",)
#: The birth-date columns a conflicting birth date lands in, with the rule that rejects the row for
#: it (None: kept as the source said it, for the reconciler to record as a conflict).
BIRTH_CONFLICTS = {"birth_date": "birth_date.matches_id", "person_birth_date": None}
#: The rule a row breaks for each ID defect: rejected, or, where the hints stand in for the ID, warned.
ID_DEFECT_RULES = {"bad_checksum": ("resident_id.checksum", "resident_id.checksum"), "missing_id": ("missing", MISSING_ID_RULE)}


@dataclass(frozen=True)
class Noise:
    """Share of rows of a person source with each defect; a row has at most one ID or birth-date defect."""

    bad_checksum: float = 0.01  # rejected (resident_id.checksum); with identity hints, published with that warning
    missing_id: float = 0.01  # civil-affairs exports only: rejected (missing); with hints, warned (resident_id.missing)
    birth_conflict: float = 0.01  # registry: rejected (birth_date.matches_id); elsewhere a conflicting birth-date hint
    full_width: float = 0.03  # accepted: normalised
    typo: float = 0.03  # accepted: a name hint differing from the registry's name


#: Which defects each record type's source has: the registry is cleaner than the exports.
DEFECTS = {
    "registry.person": ("bad_checksum", "birth_conflict", "full_width"),
    "registry.death": ("full_width",),
    "registry.household_move": ("full_width",),
    "health.checkup": ("bad_checksum", "birth_conflict", "full_width", "typo"),
    "health.family_doctor_contract": ("bad_checksum", "birth_conflict", "full_width", "typo"),
    "civil_affairs.enrolment": ("bad_checksum", "missing_id", "birth_conflict", "full_width", "typo"),
    "civil_affairs.capability_assessment": ("bad_checksum", "missing_id", "birth_conflict", "full_width", "typo"),
    "civil_affairs.subsidy_payment": ("bad_checksum", "missing_id", "birth_conflict", "full_width", "typo"),
    "civil_affairs.service_record": ("missing_id", "birth_conflict", "full_width", "typo"),
    "civil_affairs.practitioner": ("bad_checksum", "full_width"),
}


@dataclass
class Damage:
    """What the noise did, as a connector run will show it: per record type, the rows to reject and
    the rows to publish with a warning, by rule; and which published rows lost their resident ID,
    with the true one (the matcher's truth; never written out in plaintext)."""

    rejects: dict[str, Counter] = field(default_factory=dict)
    warnings: dict[str, Counter] = field(default_factory=dict)
    unidentified: dict[str, dict[str, str]] = field(default_factory=dict)  # record type → source record id → resident ID

    def lost_id(self, record: str, row: Row, defect: str, true_id: str) -> None:
        """Count a row whose ID a defect broke: published without it when its hints stand in for it."""
        rejected_as, warned_as = ID_DEFECT_RULES[defect]
        record_type = RECORD_TYPES[record]
        if not issubclass(record_type, HintedPersonRecord) or not all(row.get(name) for name in record_type.without_id_needs):
            self.rejects.setdefault(record, Counter())[rejected_as] += 1
            return
        self.warnings.setdefault(record, Counter())[warned_as] += 1
        self.unidentified.setdefault(record, {})[str(row["source_record_id"])] = true_id


def typo(name: str, rng: random.Random) -> str:
    spots = [i for i, c in enumerate(name) if c in _CONFUSED]
    if not spots:
        return name
    i = rng.choice(spots)
    return name[:i] + _CONFUSED[name[i]] + name[i + 1:]


def shifted(day: str, rng: random.Random) -> str:
    return (date.fromisoformat(day) + timedelta(days=rng.choice((-365, -31, -1, 1, 31)))).isoformat()


def add_noise(rows: Rows, seed: int, noise: Noise = Noise()) -> Damage:
    """Damage unplanted rows in place; returns what a connector run should show for it."""
    rng = random.Random(f"{seed}-noise")
    damage = Damage()
    for record, defects in DEFECTS.items():
        for row in rows.get(record, []):
            if row.get("_planted"):
                continue
            rid = str(row["resident_id"])
            if "bad_checksum" in defects and rng.random() < noise.bad_checksum:
                row["resident_id"] = rid[:17] + next(c for c in "0123456789X" if c != check_char(rid[:17]))
                damage.lost_id(record, row, "bad_checksum", rid)
            elif "missing_id" in defects and rng.random() < noise.missing_id:
                row["resident_id"] = None
                damage.lost_id(record, row, "missing_id", rid)
            elif "birth_conflict" in defects and rng.random() < noise.birth_conflict:
                for key, rule in BIRTH_CONFLICTS.items():
                    if key in row:
                        row[key] = shifted(str(row[key]), rng)
                        if rule:
                            damage.rejects.setdefault(record, Counter())[rule] += 1
            elif "full_width" in defects and rng.random() < noise.full_width:
                row["resident_id"] = rid.translate(_FULL_WIDTH)
            if "typo" in defects and rng.random() < noise.typo:
                for key in NAME_KEYS:
                    if key in row:
                        row[key] = typo(str(row[key]), rng)
    return damage
