"""Resident ID rules: checksum is hard, dates are plausible, normalisation and 15→18 upgrade."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carehub.identifiers.resident_id import ResidentIdError, check_char, mask, parse

TODAY = date(2026, 11, 29)


@st.composite
def valid_ids(draw) -> str:
    address = draw(st.sampled_from(["110101", "441900", "440300", "810000", "650202"]))
    born = draw(st.dates(min_value=TODAY - timedelta(days=119 * 365), max_value=TODAY))
    body = address + born.strftime("%Y%m%d") + f"{draw(st.integers(0, 999)):03d}"
    return body + check_char(body)


@given(valid_ids())
def test_every_well_formed_id_parses_to_itself(rid: str) -> None:
    assert parse(rid, today=TODAY).value == rid


@given(valid_ids(), st.sampled_from("0123456789X"))
def test_a_wrong_check_character_is_rejected_by_the_checksum_rule(rid: str, wrong: str) -> None:
    if wrong == rid[17]:
        return
    with pytest.raises(ResidentIdError) as caught:
        parse(rid[:17] + wrong, today=TODAY)
    assert caught.value.rule == "resident_id.checksum"
    assert rid[:17] not in str(caught.value)  # the message never repeats the ID


def test_known_valid_id_with_x_check() -> None:
    assert parse("11010519491231002x", today=TODAY).value == "11010519491231002X"


def test_full_width_digits_and_blanks_are_normalised() -> None:
    assert parse(" １１０１０５１９４９１２３１００２Ｘ ", today=TODAY).value == "11010519491231002X"


def test_fifteen_digit_ids_are_upgraded_with_19_and_a_computed_check() -> None:
    assert parse("110105491231002", today=TODAY).value == "11010519491231002X"


def test_abolished_address_codes_stay_valid() -> None:
    body = "441900" + "19500101" + "123"  # Dongguan, created 1988, for someone born 1950
    assert parse(body + check_char(body), today=TODAY).address_code == "441900"


@pytest.mark.parametrize(
    ("birth", "rule"),
    [("20991231", "resident_id.birth_date"), ("18800101", "resident_id.birth_date"), ("19500230", "resident_id.birth_date")],
)
def test_impossible_birth_dates_are_rejected(birth: str, rule: str) -> None:
    body = "110105" + birth + "002"
    with pytest.raises(ResidentIdError) as caught:
        parse(body + check_char(body), today=TODAY)
    assert caught.value.rule == rule


@pytest.mark.parametrize("raw", ["", "1101051949123100", "11010519491231002A", "abc"])
def test_malformed_ids_are_rejected_by_the_format_rule(raw: str) -> None:
    with pytest.raises(ResidentIdError) as caught:
        parse(raw, today=TODAY)
    assert caught.value.rule == "resident_id.format"


def test_mask_keeps_address_code_and_last_four() -> None:
    assert mask("11010519491231002X") == "110105********002X"
    assert len(mask("11010519491231002X")) == 18
