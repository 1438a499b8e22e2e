"""Unified social credit codes: GB 32100-2015 charset and check character, Y-prefixed codes too."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carehub.identifiers.credit_code import CHARSET, CreditCodeError, check_char, parse

REAL = "91350100M000100Y43"  # commonly cited valid code of a Fuzhou company


@st.composite
def valid_codes(draw) -> str:
    body = draw(st.text(alphabet=CHARSET, min_size=17, max_size=17))
    return body + check_char(body)


def test_a_known_real_code_is_valid() -> None:
    assert parse(REAL) == REAL


def test_codes_from_other_authorities_with_letters_in_the_region_part_are_accepted() -> None:
    body = "Y1440300MA5D0000K"  # position 1 "Y" (other authority); stdnum.cn.uscc rejects these
    assert parse(body + check_char(body)).startswith("Y1")


def test_full_width_lower_case_and_blanks_are_normalised() -> None:
    assert parse(" ９１３５０１００ｍ０００１００ｙ４３ ") == REAL


@given(valid_codes())
def test_every_generated_valid_code_passes(code: str) -> None:
    assert parse(code) == code


@given(valid_codes(), st.integers(0, 17), st.sampled_from(CHARSET))
def test_any_single_character_change_fails(code: str, position: int, replacement: str) -> None:
    if code[position] == replacement:
        return
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(CreditCodeError) as caught:
        parse(changed)
    assert caught.value.rule == "credit_code.checksum"


@pytest.mark.parametrize("raw", ["", "91350100M000100Y4", "91350100M000100Y433", "91350100M000100I43", "91350100O000100Y43"])
def test_wrong_length_or_excluded_letters_break_the_format_rule(raw: str) -> None:
    with pytest.raises(CreditCodeError) as caught:
        parse(raw)
    assert caught.value.rule == "credit_code.format"
