"""Score identity pairs and decide which elder, if any, a record without a valid ID belongs to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from consumers.matching.compare import compare
from consumers.matching.identity import Identity
from consumers.matching.model import DEFAULT_MODEL, MatchModel


class LinkState(StrEnum):
    MATCH = "MATCH"  # linked automatically
    POSSIBLE_MATCH = "POSSIBLE_MATCH"  # a reviewer decides
    NO_MATCH = "NO_MATCH"  # nobody in the dataset is likely enough


@dataclass(frozen=True)
class MatchResult:
    """The decision for one record: its state, the elder it names (MATCH and POSSIBLE_MATCH), the
    best candidate's score (0.0 when nobody was a candidate) and the best few candidates, best first."""

    state: LinkState
    key: str | None
    score: float
    candidates: tuple[tuple[str, float], ...]


class Matcher:
    """A Fellegi–Sunter matcher: a pair scores the sum of its field levels' log2(m/u) weights."""

    def __init__(self, model: MatchModel = DEFAULT_MODEL) -> None:
        self.model = model

    def score(self, a: Identity, b: Identity) -> float:
        weights = self.model.weights
        return sum(weights[field, level] for field, level in compare(a, b).items() if level is not None)

    def decide(self, query: Identity, candidates: Mapping[str, Identity]) -> MatchResult:
        """Rank the candidates by score, ties by key; link the best one only if it clears the upper
        threshold by a margin over the runner-up, since two equally good elders (same name and birth
        date, a common collision) need a reviewer."""
        ranked = sorted(((key, self.score(query, elder)) for key, elder in candidates.items()), key=lambda c: (-c[1], c[0]))
        if not ranked:
            return MatchResult(LinkState.NO_MATCH, None, 0.0, ())
        (best, top), model = ranked[0], self.model
        runner_up = ranked[1][1] if len(ranked) > 1 else float("-inf")
        listed = tuple(ranked[:model.listed])
        if top >= model.upper and top - runner_up >= model.margin:
            return MatchResult(LinkState.MATCH, best, top, listed)
        if top >= model.lower:
            return MatchResult(LinkState.POSSIBLE_MATCH, best, top, listed)
        return MatchResult(LinkState.NO_MATCH, None, top, listed)
