"""Generate a reproducible registry export of elders (CSV), with the noise real exports have."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from faker import Faker

from carehub.identifiers.resident_id import check_char, normalise

COLUMNS = ["记录号", "身份证号", "姓名", "性别", "出生日期", "户籍地区划", "住址", "更新时间"]
SEX_LABELS = {"1": "男", "2": "女"}
_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@dataclass(frozen=True)
class Noise:
    """Rates of the defects a registry export carries (each row draws once per defect)."""

    bad_checksum: float = 0.02
    full_width_id: float = 0.03
    fifteen_digit_id: float = 0.02
    updated_again: float = 0.05  # the same person exported again with a later update


@dataclass(frozen=True)
class GeneratedPersons:
    path: Path
    rows: int
    bad_checksums: int
    distinct_persons: int


def _broken_checksum(rid: str) -> str:
    wrong = next(c for c in "0123456789X" if c != check_char(rid[:17]))
    return rid[:17] + wrong


def generate_persons(path: Path, persons: int, *, seed: int = 2024, noise: Noise = Noise(),
                     today: date | None = None) -> GeneratedPersons:
    """Write `persons` elders (aged 60-100) to `path` and return what was planted."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    today = today or date.today()
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = bad = 0
    seen: set[str] = set()
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for n in range(persons):
            rid = normalise(fake.ssn(min_age=60, max_age=100))
            while rid in seen:
                rid = normalise(fake.ssn(min_age=60, max_age=100))
            seen.add(rid)
            sex = "1" if int(rid[16]) % 2 else "2"
            name = fake.name_male() if sex == "1" else fake.name_female()
            born = date(int(rid[6:10]), int(rid[10:12]), int(rid[12:14]))
            updated = datetime(today.year - 1, 1, 1) + timedelta(minutes=rng.randrange(500_000))
            shown = rid
            if rng.random() < noise.bad_checksum:
                shown, bad = _broken_checksum(rid), bad + 1
            elif rng.random() < noise.fifteen_digit_id and born.year < 2000:
                shown = rid[:6] + rid[8:17]
            elif rng.random() < noise.full_width_id:
                shown = rid.translate(_FULL_WIDTH)
            address = fake.address()
            exports = [updated]
            if rng.random() < noise.updated_again:
                exports.append(updated + timedelta(days=rng.randrange(1, 300)))
            for version, when in enumerate(exports):
                rows += 1
                writer.writerow([
                    f"P{n:08d}-{version}", shown, name, SEX_LABELS[sex], born.isoformat(),
                    rid[:6], address if version == 0 else fake.address(), when.isoformat(sep=" "),
                ])
    return GeneratedPersons(path, rows, bad, persons - bad)
