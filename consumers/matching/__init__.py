"""Probabilistic person matching: link a record without a valid resident ID to an elder by its identity hints.

    from consumers.matching import Identity, Matcher, blocking_keys

    matcher = Matcher()
    result = matcher.decide(record_identity, {key: elder_identity for key in keys_sharing_a_block})
    # result.state: MATCH (link), POSSIBLE_MATCH (a reviewer decides) or NO_MATCH

`consumers.matching.evaluate` measures precision and recall on a generated pilot region.
"""

from consumers.matching.blocking import blocking_keys
from consumers.matching.identity import Identity
from consumers.matching.matcher import LinkState, Matcher, MatchResult
from consumers.matching.model import DEFAULT_MODEL, MatchModel

__all__ = ["DEFAULT_MODEL", "Identity", "LinkState", "MatchModel", "MatchResult", "Matcher", "blocking_keys"]
