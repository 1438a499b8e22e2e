"""Person matching: records without a valid ID link to the right elder, and only when the evidence is clear."""

from __future__ import annotations

import random
from dataclasses import fields, replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumers.matching import DEFAULT_MODEL, Identity, LinkState, Matcher, MatchModel, MatchResult, blocking_keys
from consumers.matching.evaluate import QueryNoise, evaluate, noisy_copy

COUNTIES = ["320505", "320506", "320507", "320508", "320509", "320581", "320582", "320583", "320585"]
WANG_XIUYING = Identity("王秀英", "2", date(1950, 3, 12), "320505")
#: Elders who are like WANG_XIUYING in one field or two, none of them her.
NEIGHBOURS = {
    "elder-b": Identity("王秀兰", "2", date(1950, 3, 12), "320505"),
    "elder-c": Identity("王秀英", "2", date(1958, 7, 1), "320505"),
    "elder-d": Identity("李建国", "1", date(1950, 3, 12), "320505"),
    "elder-e": Identity("王秀英", "1", date(1950, 3, 30), "320583"),
}


def test_a_generated_city_is_matched_with_the_target_precision_and_recall() -> None:
    quality = evaluate(persons=20000, seed=2024)
    assert quality.registry == 20000 and quality.strangers > 0
    assert quality.precision >= 0.995, quality
    assert quality.recall >= 0.98, quality
    assert quality.review_share < 0.02, quality
    assert quality.comparisons_per_query < 5, quality


def test_an_exact_copy_matches_its_elder() -> None:
    result = Matcher().decide(WANG_XIUYING, {"elder-a": WANG_XIUYING, **NEIGHBOURS})
    assert (result.state, result.key) == (LinkState.MATCH, "elder-a")
    assert result.candidates[0] == ("elder-a", result.score) and len(result.candidates) <= DEFAULT_MODEL.listed


@pytest.mark.parametrize(("written", "typed"), [("王秀英", "汪秀英"), ("张桂兰", "章桂兰"), ("陈秀英", "程秀英")],
                         ids=["wang-homophone", "zhang-homophone", "chen-cheng-sound-alike"])
def test_a_name_typed_by_its_sound_still_matches(written: str, typed: str) -> None:
    elders = {"elder-a": replace(WANG_XIUYING, name=written), **NEIGHBOURS}
    result = Matcher().decide(replace(WANG_XIUYING, name=typed), elders)
    assert (result.state, result.key) == (LinkState.MATCH, "elder-a")


def test_namesakes_born_the_same_day_in_the_same_county_go_to_a_reviewer() -> None:
    twins = {"elder-z": WANG_XIUYING, "elder-a": WANG_XIUYING}
    result = Matcher().decide(WANG_XIUYING, twins)
    assert (result.state, result.key) == (LinkState.POSSIBLE_MATCH, "elder-a")
    assert [key for key, _ in result.candidates] == ["elder-a", "elder-z"]
    assert result.candidates[0][1] == result.candidates[1][1]


def test_a_namesake_in_another_county_does_not_stop_the_link() -> None:
    elders = {"elder-a": WANG_XIUYING, "elder-z": replace(WANG_XIUYING, division="320583")}
    result = Matcher().decide(WANG_XIUYING, elders)
    assert (result.state, result.key) == (LinkState.MATCH, "elder-a")


def test_namesakes_are_a_review_when_the_record_lacks_the_county() -> None:
    elders = {"elder-a": WANG_XIUYING, "elder-z": replace(WANG_XIUYING, division="320583")}
    result = Matcher().decide(replace(WANG_XIUYING, division=None), elders)
    assert result.state is LinkState.POSSIBLE_MATCH


def test_a_stranger_is_not_linked() -> None:
    stranger = Identity("赵国庆", "1", date(1949, 10, 1), "320505")
    result = Matcher().decide(stranger, {"elder-a": WANG_XIUYING, **NEIGHBOURS})
    assert (result.state, result.key) == (LinkState.NO_MATCH, None)
    assert Matcher().decide(stranger, {}) == MatchResult(LinkState.NO_MATCH, None, 0.0, ())


def test_a_stranger_sharing_only_a_birthday_and_county_is_not_linked() -> None:
    result = Matcher().decide(Identity("刘德明", "1", date(1950, 3, 12), "320505"), {"elder-d": NEIGHBOURS["elder-d"]})
    assert result.state is LinkState.NO_MATCH


def test_missing_and_unknown_values_weigh_nothing() -> None:
    matcher, weights = Matcher(), DEFAULT_MODEL.weights
    name_only = Identity("王秀英", None, None, None)
    assert matcher.score(name_only, WANG_XIUYING) == weights["name", "exact"]
    assert matcher.score(replace(WANG_XIUYING, sex="9"), WANG_XIUYING) == matcher.score(replace(WANG_XIUYING, sex=None), WANG_XIUYING)
    assert matcher.score(Identity(None, "0", None, "32050"), WANG_XIUYING) == 0


def test_a_model_without_a_level_says_which_to_add() -> None:
    levels = {**DEFAULT_MODEL.levels, "sex": {"equal": (0.99, 0.5)}}
    with pytest.raises(ValueError, match=r"sex levels \['different'\]"):
        MatchModel(levels=levels, upper=16, lower=10, margin=5)
    with pytest.raises(ValueError, match="must not exceed"):
        replace(DEFAULT_MODEL, lower=20)


_names = st.sampled_from(["王秀英", "汪秀英", "王秀兰", "陈军", "程军", "李明", None])
_identities = st.builds(
    Identity, _names, st.sampled_from(["1", "2", "9", None]),
    st.one_of(st.none(), st.dates(date(1950, 1, 1), date(1950, 2, 28))),
    st.sampled_from(["320505", "320506", "110101", None]),
)


@given(_identities, st.lists(_identities, max_size=8), st.randoms(use_true_random=False))
def test_the_decision_does_not_depend_on_the_order_of_candidates(query: Identity, elders: list[Identity], rng: random.Random) -> None:
    candidates = [(f"elder-{n}", elder) for n, elder in enumerate(elders)]
    shuffled = rng.sample(candidates, len(candidates))
    assert Matcher().decide(query, dict(candidates)) == Matcher().decide(query, dict(shuffled))


_DEFECTS = [f.name for f in fields(QueryNoise)]
_elders = st.builds(
    Identity, st.tuples(st.sampled_from("王张李刘陈杨黄周吴徐孙朱胡郭何高罗赵钱"), st.sampled_from(["秀英", "建国", "桂兰", "军", "淑珍"])).map("".join),
    st.sampled_from(["1", "2"]), st.dates(date(1926, 1, 1), date(1966, 12, 31)), st.sampled_from(COUNTIES),
)


@pytest.mark.parametrize("defect", _DEFECTS)
@given(elder=_elders, rng=st.randoms(use_true_random=False))
def test_a_record_with_one_defect_shares_a_block_with_its_elder(defect: str, elder: Identity, rng: random.Random) -> None:
    only = QueryNoise(**{name: 1.0 if name == defect else 0.0 for name in _DEFECTS})
    record = noisy_copy(elder, COUNTIES, rng, only)
    assert set(blocking_keys(record)) & set(blocking_keys(elder)), (record, elder)


def test_blocking_keys_are_short_and_the_same_every_time() -> None:
    keys = blocking_keys(WANG_XIUYING)
    assert keys == blocking_keys(Identity("王秀英", "2", date(1950, 3, 12), "320505"))
    assert all(len(key) < 40 for key in keys) and len(keys) == len(set(keys))
    assert blocking_keys(Identity(None, None, None, None)) == []
