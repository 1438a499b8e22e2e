"""Every current source record, kept with the entities it belongs to: the input datasets are rebuilt from.

A source record is identified by (topic, source system, source record id); a later version (by
event time, then content) replaces an earlier one whatever order they arrive in, so the store is a
function of the set of records received. Each record is routed to up to three entities: a person,
a caregiver and an institution."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from carehub.db.metadata import metadata
from consumers import views as v
from consumers.upsert import upsert_if_newer
from consumers.views import EntityView, SourceRec, SourceRef

#: The entity kinds, each with the column that holds its key.
KINDS = ("person", "caregiver", "institution")

#: topic -> (field naming the person, the caregiver, the institution), None where it names none.
ROUTES: dict[str, tuple[str | None, str | None, str | None]] = {
    v.PERSON: ("person_key", None, None),
    v.DEATH: ("person_key", None, None),
    v.MOVE: ("person_key", None, None),
    v.CHECKUP: ("person_key", None, None),
    v.CONTRACT: ("person_key", None, None),
    v.ENROLMENT: ("person_key", None, None),
    v.ASSESSMENT: ("person_key", None, None),
    v.SUBSIDY: ("person_key", None, None),
    v.SERVICE: ("person_key", "caregiver_person_key", "provider_credit_code"),
    v.PRACTITIONER: (None, "person_key", None),
    v.INSTITUTION: (None, None, "credit_code"),
    v.INSPECTION: (None, None, "credit_code"),
    v.REGISTRATION: (None, None, "credit_code"),
}

source_record = sa.Table(
    "source_record",
    metadata,
    sa.Column("ref_id", sa.String(40), primary_key=True),
    sa.Column("topic", sa.String(255), nullable=False),
    sa.Column("source_system", sa.String(128), nullable=False),
    sa.Column("source_record_id", sa.String(128), nullable=False),
    sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("person", sa.String(64), index=True),
    sa.Column("caregiver", sa.String(64), index=True),
    sa.Column("institution", sa.String(18), index=True),
    sa.Column("value", sa.LargeBinary, nullable=False),
)


def ref_id(ref: SourceRef) -> str:
    return hashlib.sha1(f"{ref.topic}\x1f{ref.source_system}\x1f{ref.source_record_id}".encode()).hexdigest()


@dataclass(frozen=True)
class Incoming:
    """One decoded message: the record, its topic without deployment prefix, and its wire bytes."""

    topic: str
    record: dict[str, Any]
    value: bytes

    @property
    def ref(self) -> SourceRef:
        return SourceRef(self.topic, self.record["source_system"], self.record["source_record_id"])

    def entity(self, kind: str) -> str | None:
        field = ROUTES[self.topic][KINDS.index(kind)]
        return self.record.get(field) if field else None


def store(conn: sa.Connection, batch: Iterable[Incoming]) -> dict[str, set[str]]:
    """Upsert the batch; return the entity keys it touched, by kind, including the keys that an
    earlier version of a record belonged to."""
    rows: dict[str, dict[str, Any]] = {}
    for item in batch:
        ref = item.ref
        row = {
            "ref_id": ref_id(ref), "topic": ref.topic, "source_system": ref.source_system,
            "source_record_id": ref.source_record_id, "event_time": item.record["event_time"], "value": item.value,
            **{kind: item.entity(kind) for kind in KINDS},
        }
        known = rows.get(row["ref_id"])
        if known is None or (row["event_time"], row["value"]) > (known["event_time"], known["value"]):
            rows[row["ref_id"]] = row
    touched: dict[str, set[str]] = defaultdict(set)
    for old in _chunked_select(conn, source_record.c.ref_id, list(rows), [source_record.c[k] for k in KINDS]):
        for kind, key in zip(KINDS, old, strict=True):
            if key:
                touched[kind].add(key)
    for row in rows.values():
        for kind in KINDS:
            if row[kind]:
                touched[kind].add(row[kind])
    upsert_if_newer(conn, source_record, list(rows.values()), key=["ref_id"], order=["event_time", "value"])
    return touched


#: Keys per IN list: far below every database's bound-parameter limit.
IN_CHUNK = 500


def in_chunks(keys: Iterable[Any]) -> Iterator[list[Any]]:
    """`keys` sorted, in slices short enough for one `column.in_(...)` each."""
    ordered = sorted(keys)
    for start in range(0, len(ordered), IN_CHUNK):
        yield ordered[start:start + IN_CHUNK]


def _chunked_select(conn: sa.Connection, column: sa.Column, keys: Iterable[Any], selected: list) -> Iterator[sa.Row]:
    for chunk in in_chunks(keys):
        yield from conn.execute(sa.select(*selected).where(column.in_(chunk)))


def load_views(
    conn: sa.Connection, kind: str, keys: Iterable[str], decode: Callable[[bytes], dict[str, Any]]
) -> dict[str, EntityView]:
    """The views of the given entities: every current record routed to each, sorted by (event
    time, ref) within its topic. An entity with no records gets an empty view."""
    grouped: dict[str, dict[str, list[SourceRec]]] = {key: defaultdict(list) for key in keys}
    columns = [source_record.c[kind], source_record.c.topic, source_record.c.source_system,
               source_record.c.source_record_id, source_record.c.event_time, source_record.c.value]
    for key, topic, system, record_id, event_time, value in _chunked_select(conn, source_record.c[kind], list(grouped), columns):
        data = decode(value)
        grouped[key][topic].append(SourceRec(SourceRef(topic, system, record_id), data["event_time"], data))
    return {
        key: EntityView(kind, key, {t: tuple(sorted(recs, key=lambda r: (r.event_time, r.ref))) for t, recs in by_topic.items()})
        for key, by_topic in grouped.items()
    }


def set_person(conn: sa.Connection, links: dict[str, str | None]) -> None:
    """Route records (by ref id) to the person they were linked to, or to none."""
    if links:
        conn.execute(
            source_record.update().where(source_record.c.ref_id == sa.bindparam("b_ref")).values(person=sa.bindparam("b_person")),
            [{"b_ref": ref, "b_person": person} for ref, person in links.items()],
        )
