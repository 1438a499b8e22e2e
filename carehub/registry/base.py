"""The schema-registry contract both the hub's own registry and the HTTP client fulfil, and its errors."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from carehub.errors import CarehubError

#: The version a subject's newest schema answers to, besides its number.
Latest = Literal["latest"]

#: The content type Confluent's registry speaks; plain application/json is accepted too.
MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """One version of a subject: the schema text and the id records written with it carry."""

    subject: str
    version: int
    id: int
    schema: str


@dataclass(frozen=True, slots=True)
class CompatibilityResult:
    """Whether a schema may be registered under a subject; each message names a field at fault."""

    is_compatible: bool
    messages: list[str] = field(default_factory=list)


class SchemaRegistry(abc.ABC):
    """Avro schemas by subject (TopicNameStrategy: `<topic>-value`) and by the id in each record.

    Ids are shared: the same schema under two subjects has one id, and registering a schema a
    subject already holds returns its id without adding a version."""

    @abc.abstractmethod
    def register(self, subject: str, schema: str) -> int:
        """The id of `schema` under `subject`, adding a version if the subject lacks it and the
        subject's compatibility level allows it (else `IncompatibleSchema`)."""

    @abc.abstractmethod
    def schema_by_id(self, schema_id: int) -> str:
        """The schema text registered under `schema_id`."""

    @abc.abstractmethod
    def subjects(self) -> list[str]:
        """Every subject with at least one version, sorted."""

    @abc.abstractmethod
    def versions(self, subject: str) -> list[int]:
        """The version numbers of `subject`, oldest first."""

    @abc.abstractmethod
    def version(self, subject: str, version: int | Latest) -> RegisteredSchema:
        """One version of `subject`, by number or "latest"."""

    @abc.abstractmethod
    def check_compatibility(self, subject: str, schema: str) -> CompatibilityResult:
        """Whether `register(subject, schema)` would pass the subject's compatibility check."""

    @abc.abstractmethod
    def get_config(self, subject: str | None = None) -> str:
        """The compatibility level in force for `subject` (its own, else the global one)."""

    @abc.abstractmethod
    def set_config(self, level: str, subject: str | None = None) -> str:
        """Set the compatibility level of `subject`, or the global one when `subject` is None."""


class RegistryError(CarehubError):
    """A registry refused a request; `error_code` and `http_status` are Confluent's for it."""

    error_code: ClassVar[int] = 50001
    http_status: ClassVar[int] = 500


class SubjectNotFound(RegistryError):
    error_code = 40401
    http_status = 404

    def __init__(self, subject: str):
        self.subject = subject
        super().__init__(
            f"subject {subject!r} has no schema in the registry; register one first, or check the "
            "name: a topic's records use the subject '<topic>-value'"
        )


class VersionNotFound(RegistryError):
    error_code = 40402
    http_status = 404

    def __init__(self, subject: str, version: int | str):
        self.subject, self.version = subject, version
        super().__init__(
            f"subject {subject!r} has no version {version}; ask for 'latest' or for one of the "
            f"numbers GET /subjects/{subject}/versions lists"
        )


class SchemaNotFound(RegistryError):
    error_code = 40403
    http_status = 404

    def __init__(self, schema_id: int):
        self.schema_id = schema_id
        super().__init__(
            f"no schema has id {schema_id} in this registry; the record was written against another "
            "registry: set CAREHUB_REGISTRY_URL to the registry its producer used"
        )


class IncompatibleSchema(RegistryError):
    error_code = 409
    http_status = 409

    def __init__(self, subject: str, problems: list[str], level: str | None = None):
        self.subject, self.problems, self.level = subject, problems, level
        rule = f" ({level} compatibility)" if level else ""
        super().__init__(
            f"{subject} refused the new schema{rule}: {'; '.join(problems)}. Give added fields a "
            "default and keep existing fields' types, or publish the new shape on the next "
            "major-version topic (.v2, .v3, …)"
        )


class InvalidSchema(RegistryError):
    error_code = 42201
    http_status = 422

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(
            f"not a valid Avro schema: {reason}; fix the schema "
            "(https://avro.apache.org/docs/1.12.0/specification/)"
        )


class InvalidVersion(RegistryError):
    error_code = 42202
    http_status = 422

    def __init__(self, version: str):
        self.version = version
        super().__init__(f"{version!r} is not a version; use a number from 1 up, or 'latest'")


class InvalidCompatibilityLevel(RegistryError):
    error_code = 42203
    http_status = 422

    def __init__(self, level: str, levels: list[str]):
        self.level = level
        super().__init__(f"{level!r} is not a compatibility level; use one of {', '.join(levels)}")
