"""Schema registry: the Confluent REST subset, served from the hub database, and a client.

    registry = DatabaseRegistry(open_database(url))        # or HttpRegistry(url, retry_seconds=30)
    schema_id = registry.register("src.registry.person.v1-value", avsc_text)
    registry.schema_by_id(schema_id)

`carehub.registry.api.registry_router(registry)` serves any registry over Confluent's REST API."""

from carehub.registry.base import (
    CompatibilityResult,
    IncompatibleSchema,
    InvalidCompatibilityLevel,
    InvalidSchema,
    InvalidVersion,
    RegisteredSchema,
    RegistryError,
    SchemaNotFound,
    SchemaRegistry,
    SubjectNotFound,
    VersionNotFound,
)
from carehub.registry.client import HttpRegistry
from carehub.registry.compatibility import Compatibility
from carehub.registry.store import DatabaseRegistry

__all__ = [
    "Compatibility",
    "CompatibilityResult",
    "DatabaseRegistry",
    "HttpRegistry",
    "IncompatibleSchema",
    "InvalidCompatibilityLevel",
    "InvalidSchema",
    "InvalidVersion",
    "RegisteredSchema",
    "RegistryError",
    "SchemaNotFound",
    "SchemaRegistry",
    "SubjectNotFound",
    "VersionNotFound",
]
