"""Access profiles as an operator writes them: what they grant, and the mistakes they refuse with a remedy."""

from __future__ import annotations

from pathlib import Path

import pytest

from carehub.errors import ConfigError
from carehub.query.profiles import EXAMPLE, hash_key, load_profiles, new_key, parse_profiles, readable_fields
from carehub.query.reads import InstitutionSearch, division_prefix

REPO = Path(__file__).parents[2]


def _one(body: dict) -> dict:
    return {"profiles": {"portal": body}}


def test_the_example_profiles_load() -> None:
    profiles = load_profiles(REPO / EXAMPLE)
    assert set(profiles.by_name) == {"service-map", "home-care-portal", "supervision"}
    supervision = profiles.by_name["supervision"]
    assert supervision.reads_every_field("elder") and supervision.kafka_groups == ("supervision-warehouse",)
    assert profiles.by_name["service-map"].kafka_groups == ("service-map",)


def test_every_field_means_all_but_the_encrypted_id_and_the_key_is_always_granted() -> None:
    profile = parse_profiles(_one({"datasets": {"elder": "*", "institution": ["name"]}}), "test").by_name["portal"]
    assert profile.fields("elder") == readable_fields("elder") and "resident_id_encrypted" not in profile.fields("elder")
    assert profile.fields("institution") == {"credit_code", "name"}
    assert profile.fields("practitioner") == frozenset()
    assert profile.visible("institution", {"credit_code": "X", "name": "N", "beds": 3}) == {"credit_code": "X", "name": "N"}


def test_a_key_authenticates_its_profile_only() -> None:
    key = new_key()
    profiles = parse_profiles({"profiles": {"a": {"key_hashes": [hash_key(key)]}, "b": {"key_hashes": [hash_key(new_key())]}}}, "test")
    assert profiles.authenticate(key).name == "a"
    assert profiles.authenticate(key + "x") is None
    assert key.startswith("chk_") and len(key) > 40


@pytest.mark.parametrize(("body", "said"), [
    ({"datasets": {"pension": "*"}}, "unknown dataset 'pension'; datasets are elder"),
    ({"datasets": {"elder": ["name", "shoe_size"]}}, "unknown field shoe_size; its fields are address"),
    ({"datasets": {"elder": ["resident_id_encrypted"]}}, "never leaves the hub"),
    ({"datasets": {"elder": "name"}}, 'give a list of field names or "*"'),
    ({"endpoints": ["everything"]}, "unknown endpoint everything; endpoints are elders"),
    ({"key_hashes": ["my-secret-key"]}, "`carehub acl key PROFILE` prints a new key"),
    ({"consumer_groups": ["two words"]}, "consumer group two words"),
    ({"datasets": {}, "colour": "red"}, "colour"),
])
def test_a_mistake_in_a_profile_names_the_profile_and_the_remedy(body: dict, said: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_profiles(_one(body), "CAREHUB_ACCESS_PROFILES=p.yaml")
    assert "CAREHUB_ACCESS_PROFILES=p.yaml: profile portal" in str(raised.value) and said in str(raised.value)


def test_two_profiles_cannot_share_a_key() -> None:
    shared = hash_key("one key")
    with pytest.raises(ConfigError, match="share the key hash"):
        parse_profiles({"profiles": {"a": {"key_hashes": [shared]}, "b": {"key_hashes": [shared]}}}, "test")


def test_a_missing_or_shapeless_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read it .* start from carehub/query/profiles.example.yaml"):
        load_profiles(tmp_path / "absent.yaml")
    (tmp_path / "list.yaml").write_text("- portal\n")
    with pytest.raises(ConfigError, match="top-level 'profiles:' mapping"):
        load_profiles(tmp_path / "list.yaml")


@pytest.mark.parametrize(("code", "prefix"), [("320000", "32"), ("320500", "3205"), ("320505", "320505"), ("32", "32"), ("3205", "3205")])
def test_a_division_selects_everything_inside_it(code: str, prefix: str) -> None:
    assert division_prefix(code) == prefix


@pytest.mark.parametrize(("search", "said"), [
    ({"division": "32050"}, "2, 4 or 6 digits"), ({"service": "karaoke"}, "unknown service 'karaoke'"),
    ({"grade_min": 6}, "grade_min must be a grade from 1"),
])
def test_an_invalid_search_says_what_is_valid(search: dict, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        InstitutionSearch(**search)
