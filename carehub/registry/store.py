"""The hub's own schema registry, kept in the hub database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from carehub.registry.base import (
    CompatibilityResult,
    IncompatibleSchema,
    InvalidVersion,
    Latest,
    RegisteredSchema,
    SchemaNotFound,
    SchemaRegistry,
    SubjectNotFound,
    VersionNotFound,
)
from carehub.registry.compatibility import (
    DEFAULT_LEVEL,
    Compatibility,
    ParsedSchema,
    compatibility_problems,
    parse_schema,
)
from carehub.registry.tables import registry_config, registry_schema, registry_subject_version

T = TypeVar("T")

#: registry_config row that holds the global level.
GLOBAL = ""

#: Each lost race means another writer committed, so a handful of attempts always suffices in
#: practice; the bound only stops a logic error from spinning forever.
RACE_ATTEMPTS = 20


class DatabaseRegistry(SchemaRegistry):
    """A `SchemaRegistry` over the registry tables; safe to share between threads, and between
    processes sharing one database: the primary key and the unique fingerprint settle races."""

    def __init__(self, engine: sa.Engine):
        self._engine = engine
        # Schemas never change once registered, so these caches never go stale.
        self._by_id: dict[int, ParsedSchema] = {}
        self._registered: dict[tuple[str, str], int] = {}

    def register(self, subject: str, schema: str) -> int:
        if (known := self._registered.get((subject, schema))) is not None:
            return known
        parsed = parse_schema(schema)
        schema_id = _retry_lost_races(lambda conn: self._register(conn, subject, parsed), self._engine)
        self._registered[(subject, schema)] = schema_id
        return schema_id

    def schema_by_id(self, schema_id: int) -> str:
        return self._parsed(schema_id).text

    def subjects(self) -> list[str]:
        subject = registry_subject_version.c.subject
        query = sa.select(subject).distinct().order_by(subject)
        with self._engine.connect() as conn:
            return list(conn.scalars(query))

    def versions(self, subject: str) -> list[int]:
        with self._engine.connect() as conn:
            history_ids = self._history_ids(conn, subject)
        if not history_ids:
            raise SubjectNotFound(subject)
        return [version for version, _ in history_ids]

    def version(self, subject: str, version: int | Latest) -> RegisteredSchema:
        sv = registry_subject_version.c
        query = sa.select(sv.version, sv.schema_id).where(sv.subject == subject)
        if version == "latest":
            query = query.order_by(sv.version.desc()).limit(1)
        elif isinstance(version, int) and version >= 1:
            query = query.where(sv.version == version)
        else:
            raise InvalidVersion(str(version))
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
            if row is None:
                if version != "latest" and self._has_subject(conn, subject):
                    raise VersionNotFound(subject, version)
                raise SubjectNotFound(subject)
        return RegisteredSchema(subject, row.version, row.schema_id, self.schema_by_id(row.schema_id))

    def check_compatibility(self, subject: str, schema: str) -> CompatibilityResult:
        parsed = parse_schema(schema)
        with self._engine.connect() as conn:
            history = self._history(conn, subject)
            level = self._level(conn, subject)
        problems = compatibility_problems(subject, parsed, history, level)
        return CompatibilityResult(is_compatible=not problems, messages=problems)

    def get_config(self, subject: str | None = None) -> str:
        with self._engine.connect() as conn:
            return str(self._level(conn, subject))

    def set_config(self, level: str, subject: str | None = None) -> str:
        compatibility = Compatibility.parse(level)
        key = subject if subject is not None else GLOBAL

        def upsert(conn: sa.Connection) -> None:
            updated = conn.execute(
                registry_config.update()
                .where(registry_config.c.subject == key)
                .values(compatibility=str(compatibility))
            )
            if not updated.rowcount:
                conn.execute(registry_config.insert().values(subject=key, compatibility=str(compatibility)))

        _retry_lost_races(upsert, self._engine)
        return str(compatibility)

    def _register(self, conn: sa.Connection, subject: str, parsed: ParsedSchema) -> int:
        """One attempt at registering; an IntegrityError means another writer got there first."""
        history_ids = self._history_ids(conn, subject)
        for _, schema_id in history_ids:
            if self._parsed(schema_id, conn).fingerprint == parsed.fingerprint:
                return schema_id  # already a version: idempotent, whatever the level says today
        history = [(version, self._parsed(schema_id, conn)) for version, schema_id in history_ids]
        level = self._level(conn, subject)
        if problems := compatibility_problems(subject, parsed, history, level):
            raise IncompatibleSchema(subject, problems, str(level))
        schema_id = conn.scalar(
            sa.select(registry_schema.c.id).where(registry_schema.c.fingerprint == parsed.fingerprint)
        )
        if schema_id is None:
            schema_id = conn.execute(
                registry_schema.insert().values(fingerprint=parsed.fingerprint, schema=parsed.text)
            ).inserted_primary_key[0]
        next_version = history_ids[-1][0] + 1 if history_ids else 1
        conn.execute(
            registry_subject_version.insert().values(subject=subject, version=next_version, schema_id=schema_id)
        )
        return schema_id

    def _history_ids(self, conn: sa.Connection, subject: str) -> list[tuple[int, int]]:
        """(version, schema id) of every version of `subject`, oldest first."""
        sv = registry_subject_version.c
        query = sa.select(sv.version, sv.schema_id).where(sv.subject == subject).order_by(sv.version)
        return [(row.version, row.schema_id) for row in conn.execute(query)]

    def _history(self, conn: sa.Connection, subject: str) -> list[tuple[int, ParsedSchema]]:
        history_ids = self._history_ids(conn, subject)
        return [(version, self._parsed(schema_id, conn)) for version, schema_id in history_ids]

    def _has_subject(self, conn: sa.Connection, subject: str) -> bool:
        sv = registry_subject_version.c
        return conn.scalar(sa.select(sv.version).where(sv.subject == subject).limit(1)) is not None

    def _level(self, conn: sa.Connection, subject: str | None) -> Compatibility:
        """The subject's own level, else the global one, else BACKWARD."""
        keys = [GLOBAL] if subject is None else [subject, GLOBAL]
        rows = dict(
            conn.execute(
                sa.select(registry_config.c.subject, registry_config.c.compatibility).where(
                    registry_config.c.subject.in_(keys)
                )
            ).all()
        )
        level = next((rows[key] for key in keys if key in rows), DEFAULT_LEVEL)
        return Compatibility(level)

    def _parsed(self, schema_id: int, conn: sa.Connection | None = None) -> ParsedSchema:
        if (cached := self._by_id.get(schema_id)) is not None:
            return cached
        query = sa.select(registry_schema.c.schema).where(registry_schema.c.id == schema_id)
        if conn is None:
            with self._engine.connect() as own:
                text = own.scalar(query)
        else:
            text = conn.scalar(query)
        if text is None:
            raise SchemaNotFound(schema_id)
        self._by_id[schema_id] = parse_schema(text)
        return self._by_id[schema_id]


def _retry_lost_races(attempt: Callable[[sa.Connection], T], engine: sa.Engine) -> T:
    """Run `attempt` in its own transaction until no unique key collides with another writer's."""
    attempts = 1
    while True:
        try:
            with engine.begin() as conn:
                return attempt(conn)
        except IntegrityError:
            if attempts == RACE_ATTEMPTS:
                raise
            attempts += 1
