"""What a record type provides: its canonical pydantic model, topic, schema and Avro form."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from carehub.pii import Protector


@dataclass(frozen=True, slots=True)
class Problem:
    """A named rule a record broke (a rejection) or questions (a warning); the message never
    contains the value."""

    field: str
    rule: str
    message: str


@dataclass(frozen=True, slots=True)
class Envelope:
    """The fields every published record carries about where it came from."""

    source_system: str
    connector: str
    ingest_time: datetime
    timezone: tzinfo = UTC  # the zone of source times written without one


class CanonicalRecord(BaseModel, abc.ABC):
    """A validated source record in the hub's canonical form. Subclasses declare fields with
    validators whose errors name a rule (`PydanticCustomError` type), never the input value."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, extra="forbid")

    topic: ClassVar[str]
    schema_path: ClassVar[str]
    #: The Avro field whose value is the Kafka key: person key for person-related records,
    #: credit code for institutions.
    key_field: ClassVar[str]

    source_record_id: str
    source_version: str | None = None
    event_time: datetime | None = None

    @abc.abstractmethod
    def to_avro(self, protector: Protector, envelope: Envelope) -> dict[str, Any]:
        """The Avro record, with every resident ID pseudonymised, encrypted and masked."""

    def warnings(self) -> list[Problem]:
        """What is doubtful but accepted (counted in the collection-quality report)."""
        return []

    def envelope_fields(self, envelope: Envelope) -> dict[str, Any]:
        return {
            "source_system": envelope.source_system,
            "source_record_id": self.source_record_id,
            "source_version": self.source_version,
            "event_time": self.event_time or envelope.ingest_time,
            "ingest_time": envelope.ingest_time,
            "connector": envelope.connector,
        }
