"""Record types a connector YAML may name in `record:`; one line per canonical record."""

from __future__ import annotations

from connectors.registry.person import Person
from connectors.sdk.record import CanonicalRecord

RECORD_TYPES: dict[str, type[CanonicalRecord]] = {
    "registry.person": Person,
}
