"""The hub's registry in its database: ids, versions, compatibility and config, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import multiprocessing
from multiprocessing.synchronize import Barrier

import pytest
import sqlalchemy as sa

from carehub.db.engine import open_database
from carehub.registry.base import (
    IncompatibleSchema,
    InvalidCompatibilityLevel,
    InvalidSchema,
    InvalidVersion,
    RegisteredSchema,
    SchemaNotFound,
    SubjectNotFound,
    VersionNotFound,
)
from carehub.registry.store import DatabaseRegistry
from carehub.registry.tables import registry_schema

from .avro_schemas import BIRTH_DATE_WITHOUT_DEFAULT, NAME, OPTIONAL_PHONE, SUBJECT, person

OTHER_SUBJECT = "src.health.person.v1-value"


def test_registering_a_schema_again_returns_its_id_without_a_new_version(registry: DatabaseRegistry) -> None:
    schema_id = registry.register(SUBJECT, person())
    assert registry.register(SUBJECT, person()) == schema_id
    assert registry.register(SUBJECT, person(indent=2)) == schema_id  # same schema, other layout
    assert registry.versions(SUBJECT) == [1]
    assert json.loads(registry.schema_by_id(schema_id)) == json.loads(person())


def test_the_same_schema_under_two_subjects_shares_one_id(registry: DatabaseRegistry) -> None:
    schema_id = registry.register(SUBJECT, person())
    assert registry.register(OTHER_SUBJECT, person()) == schema_id
    assert registry.subjects() == [OTHER_SUBJECT, SUBJECT]
    shared = registry.schema_by_id(schema_id)
    assert registry.version(OTHER_SUBJECT, "latest") == RegisteredSchema(OTHER_SUBJECT, 1, schema_id, shared)


def test_a_compatible_change_becomes_the_next_version(registry: DatabaseRegistry) -> None:
    first = registry.register(SUBJECT, person())
    second = registry.register(SUBJECT, person(OPTIONAL_PHONE))
    assert second != first
    assert registry.versions(SUBJECT) == [1, 2]
    latest = registry.version(SUBJECT, "latest")
    assert (latest.version, latest.id) == (2, second)
    assert json.loads(latest.schema) == json.loads(person(OPTIONAL_PHONE))
    assert registry.version(SUBJECT, 1).id == first
    # Registering an older version again is idempotent too: it returns that version's id.
    assert registry.register(SUBJECT, person()) == first
    assert registry.versions(SUBJECT) == [1, 2]


def test_giving_a_field_a_default_is_a_new_version_that_keeps_the_default(registry: DatabaseRegistry) -> None:
    registry.register(SUBJECT, person())
    registry.register(SUBJECT, person(name={**NAME, "default": ""}))
    assert registry.versions(SUBJECT) == [1, 2]
    assert '"default":""' in registry.version(SUBJECT, "latest").schema


def test_a_field_added_without_a_default_is_refused_naming_it(registry: DatabaseRegistry) -> None:
    registry.register(SUBJECT, person())
    with pytest.raises(IncompatibleSchema) as refused:
        registry.register(SUBJECT, person(BIRTH_DATE_WITHOUT_DEFAULT))
    assert (
        f"field 'birth_date' was added without a default: a reader of {SUBJECT} could not read data "
        "written with version 1"
    ) in str(refused.value)
    assert "give added fields a default" in str(refused.value).lower()
    assert registry.versions(SUBJECT) == [1]


def test_a_type_change_is_refused_naming_the_field(registry: DatabaseRegistry) -> None:
    registry.register(SUBJECT, person())
    with pytest.raises(IncompatibleSchema, match="field 'name' changed type from string to int"):
        registry.register(SUBJECT, person(name={"name": "name", "type": "int"}))
    assert registry.versions(SUBJECT) == [1]


def test_check_compatibility_says_what_register_would_do_without_registering(registry: DatabaseRegistry) -> None:
    assert registry.check_compatibility(SUBJECT, person(BIRTH_DATE_WITHOUT_DEFAULT)).is_compatible  # no versions yet
    registry.register(SUBJECT, person())
    assert registry.check_compatibility(SUBJECT, person(OPTIONAL_PHONE)).is_compatible
    refused = registry.check_compatibility(SUBJECT, person(BIRTH_DATE_WITHOUT_DEFAULT))
    assert not refused.is_compatible
    reasons = [message.split(":")[0] for message in refused.messages]
    assert reasons == ["field 'birth_date' was added without a default"]
    assert registry.versions(SUBJECT) == [1]


def test_an_invalid_schema_is_refused(registry: DatabaseRegistry) -> None:
    with pytest.raises(InvalidSchema):
        registry.register(SUBJECT, '{"type": "record", "name": "Person"}')
    assert registry.subjects() == []


def test_missing_subjects_versions_and_ids_are_told_apart(registry: DatabaseRegistry) -> None:
    schema_id = registry.register(SUBJECT, person())
    with pytest.raises(SubjectNotFound, match=f"'{OTHER_SUBJECT}'"):
        registry.versions(OTHER_SUBJECT)
    with pytest.raises(SubjectNotFound):
        registry.version(OTHER_SUBJECT, "latest")
    with pytest.raises(VersionNotFound, match=f"'{SUBJECT}' has no version 7"):
        registry.version(SUBJECT, 7)
    with pytest.raises(InvalidVersion):
        registry.version(SUBJECT, 0)
    with pytest.raises(SchemaNotFound, match=f"no schema has id {schema_id + 1}.*CAREHUB_REGISTRY_URL"):
        registry.schema_by_id(schema_id + 1)


def test_compatibility_is_backward_until_configured_globally_or_per_subject(registry: DatabaseRegistry) -> None:
    assert registry.get_config() == "BACKWARD"
    assert registry.get_config(SUBJECT) == "BACKWARD"
    assert registry.set_config("forward") == "FORWARD"
    assert registry.get_config(SUBJECT) == "FORWARD"
    assert registry.set_config("NONE", SUBJECT) == "NONE"
    assert registry.set_config("FULL", SUBJECT) == "FULL"  # a second set replaces the first
    assert (registry.get_config(SUBJECT), registry.get_config(OTHER_SUBJECT), registry.get_config()) == (
        "FULL", "FORWARD", "FORWARD",
    )
    with pytest.raises(InvalidCompatibilityLevel):
        registry.set_config("SOMETIMES")


def test_the_subject_level_decides_what_registers(registry: DatabaseRegistry) -> None:
    registry.register(SUBJECT, person())
    registry.set_config("NONE", SUBJECT)
    registry.register(SUBJECT, person(name={"name": "name", "type": "int"}))
    assert registry.versions(SUBJECT) == [1, 2]
    registry.register(OTHER_SUBJECT, person())
    with pytest.raises(IncompatibleSchema):
        registry.register(OTHER_SUBJECT, person(name={"name": "name", "type": "int"}))


def test_a_second_registry_on_the_same_database_sees_every_schema(
    registry: DatabaseRegistry, engine: sa.Engine
) -> None:
    schema_id = registry.register(SUBJECT, person())
    registry.set_config("FULL", SUBJECT)
    other = DatabaseRegistry(engine)
    assert other.register(SUBJECT, person()) == schema_id
    assert json.loads(other.schema_by_id(schema_id)) == json.loads(person())
    assert other.get_config(SUBJECT) == "FULL"


def _register_concurrently(url: str, start: Barrier, worker: int, results: multiprocessing.Queue) -> None:
    """One of several processes: all register the same evolution of SUBJECT, and each its own
    compatible version of OTHER_SUBJECT, at the same moment."""
    registry = DatabaseRegistry(open_database(url, migrate=False))
    start.wait()
    shared = [registry.register(SUBJECT, schema) for schema in (person(), person(OPTIONAL_PHONE))]
    own = registry.register(OTHER_SUBJECT, person({"name": f"note_{worker}", "type": "string", "default": ""}))
    results.put((shared, own))


def test_concurrent_processes_never_duplicate_versions_or_ids(
    registry: DatabaseRegistry, engine: sa.Engine, database_url: str
) -> None:
    registry.register(OTHER_SUBJECT, person())
    workers = 4
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(workers), spawn.Queue()
    processes = [
        spawn.Process(target=_register_concurrently, args=(database_url, start, worker, results))
        for worker in range(workers)
    ]
    for process in processes:
        process.start()
    answers = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0

    shared_ids = {tuple(shared) for shared, _ in answers}
    assert len(shared_ids) == 1  # every process got the same two ids
    assert registry.versions(SUBJECT) == [1, 2]
    assert registry.versions(OTHER_SUBJECT) == list(range(1, workers + 2))
    own_ids = {own for _, own in answers}
    assert len(own_ids) == workers
    assert {registry.version(OTHER_SUBJECT, v).id for v in range(2, workers + 2)} == own_ids
    with engine.connect() as conn:
        stored = conn.scalar(sa.select(sa.func.count()).select_from(registry_schema))
    assert stored == 2 + workers  # person() serves both subjects; one more per worker
