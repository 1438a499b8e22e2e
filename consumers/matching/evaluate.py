"""Measure the matcher on a generated pilot region whose truth is known: precision, recall, review share, cost."""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from carehub.demo.noise import shifted, typo
from carehub.demo.region import AGE_BANDS, build_region
from consumers.matching.blocking import blocking_keys
from consumers.matching.compare import COMPARISONS, compare
from consumers.matching.identity import Identity
from consumers.matching.matcher import LinkState, Matcher
from consumers.matching.model import DEFAULT_MODEL, MatchModel

#: The day the generated region is seen from; fixed, so a seed always yields the same data set.
EVALUATION_DAY = date(2026, 1, 1)
#: Elders whose registry the data set stands for: 苏州市, the pilot city, has about two million aged 60+.
CITY_ELDERS = 2_000_000
#: The smallest m or u a calibration writes: levels never seen in a sample are rare, not impossible.
SMALLEST_PROBABILITY = 1e-4


@dataclass(frozen=True)
class QueryNoise:
    """Share of no-ID query records with each defect, drawn independently, so combinations occur at
    the product of their rates; about three queries in ten carry at least one defect.

    A record reaches the matcher without a valid ID because it was typed by hand at a service desk
    or copied from a paper form, so it is sloppier than the average export (`carehub.demo.noise.Noise`
    has 3% name typos and 1% conflicting birth dates): the rates here are about three times those.
    `typo` is the demo's confused-character typo, which changes only names holding a confusable
    character (55% of generated names: 王, 张, 李, 刘, 陈 … are the common surnames), so 5.5% of
    queries carry one. `shifted_birth` is the demo's shift by a day, a month or a year back;
    `transposed_birth` swaps day and month where the day is at most 12. `other_division` is the
    region's yearly move rate (`carehub.demo.region.MOVE_RATE`): a record made before a household
    move that the registry has since applied. `missing_division` and `missing_sex` are the columns
    a civil-affairs export leaves empty."""

    typo: float = 0.10
    shifted_birth: float = 0.04
    transposed_birth: float = 0.01
    other_division: float = 0.03
    missing_division: float = 0.05
    missing_sex: float = 0.15


@dataclass(frozen=True)
class MatchQuality:
    """What `evaluate` measured. precision = correct MATCH links / all MATCH links; recall = correct
    MATCH links / queries whose person is in the registry; review_share = POSSIBLE_MATCH / queries;
    comparisons_per_query = registry elders a query shared a block with; records_per_second =
    queries blocked and decided per second, the registry's block index already built."""

    registry: int
    queries: int
    strangers: int
    matches: int
    false_matches: int
    precision: float
    recall: float
    review_share: float
    comparisons_per_query: float
    records_per_second: float


@dataclass(frozen=True)
class Population:
    """A registry of elders by key, the no-ID queries derived from them and from strangers, and the
    truth: the registry key of each query's person, None for a stranger."""

    registry: dict[str, Identity]
    queries: list[tuple[Identity, str | None]]


def _birth_date(rng: random.Random, today: date) -> date:
    """A birth date spread over the year within the region's age bands. The region generator's own
    birth dates all fall within a few days of one calendar day (Faker's `ssn(min_age=a, max_age=a)`
    dates everyone exactly a × 365 days before the day it runs), which would give every elder of an
    age the same birthday and change the data set with the calendar."""
    bands, weights = zip(*AGE_BANDS, strict=True)
    youngest, oldest = rng.choices(bands, weights)[0]
    return today - timedelta(days=rng.randrange(round(youngest * 365.25), round((oldest + 1) * 365.25)))


def _people(persons: int, seed: int) -> list[Identity]:
    """Elders of a generated pilot region: the generator's names, sexes and household counties."""
    region = build_region(persons, seed, EVALUATION_DAY)
    rng = random.Random(f"{seed}-births")
    return [Identity(e.name, e.sex, _birth_date(rng, EVALUATION_DAY), e.division) for e in region.elders]


def noisy_copy(person: Identity, counties: list[str], rng: random.Random, noise: QueryNoise) -> Identity:
    """What a no-ID record says about `person`, with each defect of `noise` drawn once."""
    name, sex, birth, division = person.name, person.sex, person.birth_date, person.division
    if name and rng.random() < noise.typo:
        name = typo(name, rng)
    if birth and rng.random() < noise.shifted_birth:
        birth = date.fromisoformat(shifted(birth.isoformat(), rng))
    if birth and birth.day <= 12 and rng.random() < noise.transposed_birth:
        birth = birth.replace(month=birth.day, day=birth.month)
    if rng.random() < noise.other_division:
        division = rng.choice([c for c in counties if c != division])
    if rng.random() < noise.missing_division:
        division = None
    if rng.random() < noise.missing_sex:
        sex = None
    return Identity(name, sex, birth, division)


def _coincidence(values: list[object]) -> float:
    """The chance that two different people, drawn from those whom `values` describe, share a value."""
    n = len(values)
    return sum(c * (c - 1) for c in Counter(values).values()) / (n * (n - 1))


def namesake_share(people: list[Identity], city_elders: int) -> float:
    """The share of a city of `city_elders` people like these who share name, sex and birth date with
    someone: each has city_elders - 1 others, each a namesake with the chance that two people share
    name and sex times the chance they share a birth date."""
    return min(1.0, city_elders * _coincidence([(p.name, p.sex) for p in people])
               * _coincidence([p.birth_date for p in people]))


def _with_namesakes(people: list[Identity], share: float, rng: random.Random) -> list[Identity]:
    """`people` where a `share` of them come in pairs of namesakes: the second of a pair takes the
    first's name, sex and birth date and keeps its own county."""
    people = list(people)
    picked = rng.sample(range(len(people)), round(len(people) * share) // 2 * 2)
    for original, namesake in zip(picked[::2], picked[1::2], strict=True):
        first = people[original]
        people[namesake] = Identity(first.name, first.sex, first.birth_date, people[namesake].division)
    return people


def population(persons: int, seed: int, *, sampled: float = 0.25, strangers: float = 0.1,
               city_elders: int = CITY_ELDERS, noise: QueryNoise = QueryNoise()) -> Population:
    """A registry of `persons` generated elders; queries copied with noise from a `sampled` share of
    them, and from people outside the registry, who make up a `strangers` share of all queries
    (elders whose household is registered elsewhere, living with their children in the city).
    Strangers come from the same generated region, so they share its names and counties.

    Same name, sex and birth date is common in China, the more so the larger the population: a
    generated registry of twenty thousand has almost no such pairs, a city's registry has many.
    So the people get the namesakes of a city of `city_elders` (`namesake_share`: 2.3% of them for
    two million, with the generator's names and birth dates), planted in pairs, registry and
    strangers alike."""
    insiders = round(persons * sampled)
    outsiders = round(insiders * strangers / (1 - strangers))
    people = _people(persons + outsiders, seed)
    people = _with_namesakes(people, namesake_share(people, city_elders), random.Random(f"{seed}-namesakes"))
    registry = {f"elder-{n:06d}": person for n, person in enumerate(people[:persons])}
    counties = sorted({p.division for p in people if p.division})
    rng = random.Random(f"{seed}-queries")
    truth: list[tuple[Identity, str | None]] = [(person, key) for key, person in rng.sample(sorted(registry.items()), insiders)]
    truth += [(person, None) for person in people[persons:]]
    rng.shuffle(truth)
    return Population(registry, [(noisy_copy(person, counties, rng, noise), key) for person, key in truth])


def block_index(registry: Mapping[str, Identity]) -> dict[str, list[str]]:
    """Registry keys filed under each blocking key."""
    index: dict[str, list[str]] = defaultdict(list)
    for key, identity in registry.items():
        for block in blocking_keys(identity):
            index[block].append(key)
    return index


def candidates_of(query: Identity, registry: Mapping[str, Identity], index: Mapping[str, list[str]]) -> dict[str, Identity]:
    """Every registry elder sharing a blocking key with the query."""
    return {key: registry[key] for block in blocking_keys(query) for key in index.get(block, ())}


def evaluate(persons: int = 20000, seed: int = 2024, *, model: MatchModel = DEFAULT_MODEL, strangers: float = 0.1,
             city_elders: int = CITY_ELDERS, noise: QueryNoise = QueryNoise()) -> MatchQuality:
    """Generate a registry and its no-ID queries (see `population` and `QueryNoise`), decide every
    query with blocking and `Matcher.decide`, and compare the links with the truth."""
    data = population(persons, seed, strangers=strangers, city_elders=city_elders, noise=noise)
    index = block_index(data.registry)
    matcher = Matcher(model)
    states: Counter[LinkState] = Counter()
    correct = comparisons = 0
    started = time.perf_counter()
    for query, truth in data.queries:
        candidates = candidates_of(query, data.registry, index)
        comparisons += len(candidates)
        result = matcher.decide(query, candidates)
        states[result.state] += 1
        correct += result.state is LinkState.MATCH and result.key == truth
    elapsed = time.perf_counter() - started
    queries = len(data.queries)
    insiders = sum(1 for _, truth in data.queries if truth is not None)
    matches = states[LinkState.MATCH]
    return MatchQuality(
        registry=len(data.registry), queries=queries, strangers=queries - insiders, matches=matches,
        false_matches=matches - correct, precision=correct / matches if matches else 1.0, recall=correct / insiders,
        review_share=states[LinkState.POSSIBLE_MATCH] / queries, comparisons_per_query=comparisons / queries,
        records_per_second=queries / elapsed,
    )


def _shares(levels: Iterable[dict[str, str | None]]) -> dict[str, dict[str, float]]:
    counts: dict[str, Counter[str]] = {field: Counter() for field, _, _ in COMPARISONS}
    for compared in levels:
        for field, level in compared.items():
            if level is not None:
                counts[field][level] += 1
    return {field: {level: max(SMALLEST_PROBABILITY, counts[field][level] / max(1, sum(counts[field].values())))
                    for level in all_levels} for field, _, all_levels in COMPARISONS}


def calibrate(persons: int = 20000, seed: int = 2024, *, random_pairs: int = 1_000_000,
              noise: QueryNoise = QueryNoise()) -> dict[str, dict[str, tuple[float, float]]]:
    """m and u of every level, measured: m over each query and its own elder, u over random pairs
    of a query and an elder who is not its person. Paste the result, rounded, into a `MatchModel`."""
    data = population(persons, seed, noise=noise)
    m = _shares(compare(query, data.registry[truth]) for query, truth in data.queries if truth is not None)
    rng = random.Random(f"{seed}-pairs")
    keys = sorted(data.registry)
    pairs = ((rng.choice(data.queries), rng.choice(keys)) for _ in range(random_pairs))
    u = _shares(compare(query, data.registry[key]) for (query, truth), key in pairs if key != truth)
    return {field: {level: (m[field][level], u[field][level]) for level in m[field]} for field in m}
