"""GB/T 2260 division codes: every code that ever existed is known, current and abolished."""

import pytest

from carehub.identifiers.division import is_known_division, is_well_formed


@pytest.mark.parametrize(
    "code",
    [
        "110105",  # Chaoyang, Beijing: current county
        "110000",  # Beijing: province level
        "441900",  # Dongguan: prefecture without counties, created 1988
        "110103",  # Chongwen, Beijing: abolished 2010, still in residents' IDs
        "350404",  # Sanyuan, Sanming: created 2021, only in the current table
        "810000",  # Hong Kong residence permits
    ],
)
def test_current_abolished_and_recent_codes_are_known(code: str) -> None:
    assert is_known_division(code)


@pytest.mark.parametrize("code", ["999999", "110199", "000000"])
def test_codes_that_never_existed_are_unknown(code: str) -> None:
    assert not is_known_division(code)


def test_only_six_digit_codes_are_well_formed() -> None:
    assert is_well_formed("110105")
    assert not is_well_formed("11010")
    assert not is_well_formed("11010a")
