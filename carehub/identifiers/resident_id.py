"""Resident ID numbers (居民身份证号, GB 11643-1999): normalise, upgrade 15→18 digits, validate.

The ISO 7064 MOD 11-2 checksum is the hard rule. Birth dates must be real, not in the future
and at most MAX_AGE years ago. Address codes are not checked here: an address code that no
longer exists is still a valid ID (codes stay valid after a division is abolished)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from operator import mul

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
MAX_AGE = 120

_SHAPE_18 = re.compile(r"^\d{17}[\dX]$")
_SHAPE_15 = re.compile(r"^\d{15}$")


class ResidentIdError(ValueError):
    """An ID broke a named rule. The message never contains the ID itself."""

    def __init__(self, rule: str, message: str):
        self.rule = rule
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A valid 18-character resident ID."""

    value: str

    @property
    def address_code(self) -> str:
        return self.value[:6]

    @property
    def birth_date(self) -> date:
        v = self.value
        return date(int(v[6:10]), int(v[10:12]), int(v[12:14]))

    @property
    def sex(self) -> str:
        """GB/T 2261.1 code: '1' male (odd sequence), '2' female (even)."""
        return "1" if int(self.value[16]) % 2 else "2"

    @property
    def masked(self) -> str:
        return mask(self.value)


_ASCII_ZERO_SUM = ord("0") * sum(WEIGHTS)


def check_char(first17: str) -> str:
    if first17.isascii() and first17.isdigit():  # the usual case: 0.6 µs instead of 1.7
        return CHECK_CHARS[(sum(map(mul, first17.encode(), WEIGHTS)) - _ASCII_ZERO_SUM) % 11]
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def normalise(raw: str) -> str:
    """Full-width to half-width, no blanks, upper-case X."""
    return "".join(unicodedata.normalize("NFKC", raw).split()).upper()


def mask(value: str) -> str:
    """The only form of an ID that may be shown: address code and last four kept
    (110101********123X). Shorter strings keep only their last two characters, and strings of
    four characters or fewer show none."""
    if len(value) >= 15:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 2) + value[-2:]


def parse(raw: str, *, today: date | None = None) -> ResidentId:
    """Validate `raw` and return the normalised 18-character ID, or raise ResidentIdError."""
    value = normalise(raw)
    if _SHAPE_18.match(value):
        if check_char(value[:17]) != value[17]:
            raise ResidentIdError(
                "resident_id.checksum",
                "check character does not match the first 17 digits (ISO 7064 MOD 11-2)",
            )
    elif _SHAPE_15.match(value):
        body = value[:6] + "19" + value[6:]
        value = body + check_char(body)
    else:
        raise ResidentIdError(
            "resident_id.format",
            f"must be 18 characters (17 digits and a digit or X) or 15 digits; got {len(value)} characters",
        )
    rid = ResidentId(value)
    try:
        born = rid.birth_date
    except ValueError:
        raise ResidentIdError("resident_id.birth_date", "digits 7-14 are not a real date") from None
    today = today or date.today()
    if born > today:
        raise ResidentIdError("resident_id.birth_date", f"birth date {born} is in the future")
    if today.year - born.year > MAX_AGE:
        raise ResidentIdError("resident_id.birth_date", f"birth date {born} means an age over {MAX_AGE}")
    return rid
