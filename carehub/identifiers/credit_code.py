"""Unified social credit codes (统一社会信用代码, GB 32100-2015): normalise and validate."""

from __future__ import annotations

import re
import unicodedata

#: The 31 characters of GB 32100-2015 in value order: digits, then A-Z without I, O, Z, S, V.
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUES = {c: i for i, c in enumerate(CHARSET)}
_SHAPE = re.compile(f"^[{CHARSET}]{{18}}$")


class CreditCodeError(ValueError):
    """A credit code broke a named rule."""

    def __init__(self, rule: str, message: str):
        self.rule = rule
        super().__init__(message)


def check_char(first17: str) -> str:
    """The 18th character for the first 17: (31 - Σ vᵢ·wᵢ mod 31) mod 31."""
    total = sum(_VALUES[c] * w for c, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def normalise(raw: str) -> str:
    """Full-width to half-width, no blanks, upper case."""
    return "".join(unicodedata.normalize("NFKC", raw).split()).upper()


def parse(raw: str) -> str:
    """The normalised code, or CreditCodeError naming the rule it breaks. Unlike stdnum.cn.uscc,
    positions 1-8 need not be digits: codes of "other" authorities start with Y, N, A…"""
    value = normalise(raw)
    if not _SHAPE.match(value):
        raise CreditCodeError(
            "credit_code.format",
            f"must be 18 characters from 0-9 and A-Z without I, O, Z, S, V; got {len(value)} characters",
        )
    if check_char(value[:17]) != value[17]:
        raise CreditCodeError("credit_code.checksum", "check character does not match the first 17 (GB 32100-2015)")
    return value
