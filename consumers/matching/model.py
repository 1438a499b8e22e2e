"""The match model as data: m and u probabilities of every comparison level, and the decision thresholds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from consumers.matching.compare import COMPARISONS


@dataclass(frozen=True)
class MatchModel:
    """Fellegi–Sunter parameters. For each field and agreement level, `m` is the chance a record and
    its own elder agree at that level, `u` the chance two different persons do; the level adds
    log2(m/u) to a pair's score. A best score at or above `upper` with at least `margin` over the
    runner-up links automatically (MATCH); from `lower` it goes to a reviewer (POSSIBLE_MATCH)."""

    levels: Mapping[str, Mapping[str, tuple[float, float]]]
    upper: float
    lower: float
    margin: float
    listed: int = 3  # candidates a result lists for a reviewer
    weights: Mapping[tuple[str, str], float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, _, levels in COMPARISONS:
            missing = set(levels) - set(self.levels.get(name, {}))
            if missing:
                raise ValueError(f"the match model has no m/u for {name} levels {sorted(missing)}: add them to its levels table")
        for name, table in self.levels.items():
            for level, (m, u) in table.items():
                if not (0 < m <= 1 and 0 < u <= 1):
                    raise ValueError(f"m and u of {name} level {level} must be probabilities above 0, got m={m} u={u}")
        if not self.lower <= self.upper:
            raise ValueError(f"the lower threshold {self.lower} must not exceed the upper one {self.upper}")
        weights = {(name, level): math.log2(m / u) for name, table in self.levels.items() for level, (m, u) in table.items()}
        object.__setattr__(self, "weights", weights)


#: m and u measured by `consumers.matching.evaluate.calibrate()` (persons=20000, seed=2024, three million
#: random pairs), rounded. Where the generated data cannot show a level, the value is judgement,
#: marked *: a record of the right person with a name of another sound (a former name, a character
#: confused by shape), a miscoded sex, a birth date months off (a lunar-calendar date) or wholly
#: wrong is rare but real; a division outside the pilot prefecture is, among records of other
#: people, about as common as strangers from elsewhere. u of "transposed" and "fuzzy_homophone"
#: are at the measurement floor (their true values are smaller). The thresholds were chosen with
#: `evaluate()` over seeds 2024 and 1-5: every one meets precision 0.995 and recall 0.98.
DEFAULT_MODEL = MatchModel(
    levels={
        "name": {"exact": (0.94, 0.0002), "homophone": (0.053, 0.00012), "fuzzy_homophone": (0.0076, 0.0001),
                 "close": (0.003, 0.001),  # * m
                 "similar": (0.003, 0.021),  # * m
                 "different": (0.001, 0.978)},  # * m
        "sex": {"equal": (0.998, 0.5),
                "different": (0.002, 0.5)},  # * m
        "birth_date": {"exact": (0.956, 0.00011), "transposed": (0.0048, 0.0001),
                       "same_year_month": (0.016, 0.0033), "year_off": (0.009, 0.00062),
                       "within_31_days": (0.014, 0.0036),
                       "within_a_year": (0.002, 0.072),  # * m
                       "different": (0.002, 0.92)},  # * m
        "division": {"county": (0.973, 0.111), "prefecture": (0.027, 0.889),
                     "province": (0.005, 0.05),  # * m and u
                     "different": (0.002, 0.05)},  # * m and u
    },
    upper=16.0,
    lower=10.0,
    margin=5.0,
)
