"""Apply source records to the datasets inside the caller's transaction: store, link, rebuild, find.

Every touched entity is rebuilt from all its current source records by the pure builders, so the
datasets are a function of the set of records: the same whatever the order or interleaving of
arrival, and redelivered records change nothing. Rows that changed, and alerts raised or cleared,
go to the changelog outbox in the same transaction."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from carehub.pii import Protector
from consumers.alerts import Alert, caregiver_alerts, institution_alerts, person_alerts
from carehub.avro import AvroCodec
from consumers.changelog import ALERTS_TOPIC, DELETE, MERGE, UPSERT, Encoders, changelog_outbox, encoders
from consumers.datasets import DATASETS, Dataset
from consumers.datasets.elder import identity_conflicts
from consumers.findings import replace_alerts, replace_conflicts
from consumers.linking import Linker, identity_of, is_unidentified, registered_identities_of
from consumers.matching import Identity, Matcher
from consumers.store import KINDS, Incoming, in_chunks, load_views, store
from consumers.survivorship import candidates, survive
from consumers.views import EntityView, PersonFacts

#: The alert subject of each entity kind.
SUBJECTS = {"person": "elder", "caregiver": "practitioner", "institution": "institution"}
#: Rebuilding can link records anew, which touches more entities; it settles within a few rounds.
MAX_ROUNDS = 10


@dataclass
class Outcome:
    """What one application changed: rows by dataset, alerts raised and cleared."""

    stored: int = 0
    rows_changed: Counter = field(default_factory=Counter)
    alerts_raised: Counter = field(default_factory=Counter)
    alerts_cleared: int = 0


def _facts(view: EntityView) -> PersonFacts:
    birth = survive("birth_date", candidates(view, "birth_date"))
    death = survive("death_date", candidates(view, "death_date"))
    return PersonFacts(birth.value if birth else None, death.value if death else None, death.rec.ref if death else None)


class Reconciliation:
    """The reconciler's pure core wired to its tables; one instance serves many transactions."""

    def __init__(
        self, decode: Callable[[bytes], dict[str, Any]], encoders: Encoders, protector: Protector,
        *, matcher: Matcher | None = None, today: Callable[[], date] = date.today,
    ):
        self._decode, self._encoders, self._today = decode, encoders, today
        self._decoded: dict[bytes, dict[str, Any]] = {}  # within one application: each value decoded once
        self.linker = Linker(protector, matcher)

    @classmethod
    def with_codec(cls, codec: AvroCodec, protector: Protector, topic_prefix: str = "") -> Reconciliation:
        """Decoding source records and encoding changelogs through the schema registry."""
        return cls(lambda value: codec.decode(value)[1],
                   encoders(lambda topic, schema: codec.encoder(topic_prefix + topic, schema)), protector)

    def apply(self, conn: sa.Connection, batch: list[Incoming]) -> Outcome:
        outcome = Outcome(stored=len(batch))
        self._decoded = {item.value: item.record for item in batch}
        touched = store(conn, batch)
        moves: dict[str, str | None] = {}
        unidentified = [item for item in batch if is_unidentified(item)]
        _lock(conn, [f"block:{b}" for item in unidentified for b in self.linker.blocks(item)])
        touched["person"] |= self.linker.link_records(conn, unidentified, moves)
        self.rebuild(conn, touched, outcome, moves)
        return outcome

    def rebuild(self, conn: sa.Connection, touched: dict[str, set[str]], outcome: Outcome, moves: dict[str, str | None]) -> None:
        """Rebuild the touched entities, and whatever relinking that causes, until nothing changes."""
        for _ in range(MAX_ROUNDS):
            _lock(conn, [f"{kind}:{key}" for kind, keys in touched.items() for key in keys])
            elders_changed: dict[str, Identity | None] = {}
            for kind in KINDS:
                keys = sorted(touched.get(kind, ()))
                if keys:
                    self._rebuild_kind(conn, kind, keys, outcome, moves, elders_changed)
            redo = self.linker.update_elder_blocks(conn, elders_changed)
            if not redo:
                return
            touched = {"person": self.linker.redecide(conn, redo, moves)}
            if not touched["person"]:
                return
        raise RuntimeError(f"linking did not settle in {MAX_ROUNDS} rounds")

    def _rebuild_kind(self, conn: sa.Connection, kind: str, keys: list[str], outcome: Outcome,
                      moves: dict[str, str | None], elders_changed: dict[str, Identity | None]) -> None:
        views = load_views(conn, kind, keys, self._decode_once)
        registered_before = registered_identities_of(conn, keys) if kind == "person" else {}
        for dataset in DATASETS:
            if dataset.kind == kind:
                changed = self._write_rows(conn, dataset, views, moves)
                outcome.rows_changed[dataset.name] += len(changed)
                if dataset.name == "elder":  # only an identity change can change a match
                    elders_changed.update({key: identity_of(row) for key, row in changed.items()
                                           if identity_of(row) != registered_before.get(key)})
        today = self._today()
        if kind == "person":
            replace_conflicts(conn, keys, [c for view in views.values() for c in identity_conflicts(view)])
            alerts = [a for view in views.values() for a in person_alerts(view, _facts(view), today)]
        elif kind == "caregiver":
            alerts = [a for view in views.values() for a in caregiver_alerts(view)]
        else:
            alerts = [a for view in views.values() for a in institution_alerts(view, today)]
        raised, cleared = replace_alerts(conn, SUBJECTS[kind], keys, alerts)
        outcome.alerts_raised.update(a.rule for a in raised)
        outcome.alerts_cleared += len(cleared)
        self._outbox(conn, [(ALERTS_TOPIC, a.alert_id, _alert_message("RAISED", a)) for a in raised]
                     + [(ALERTS_TOPIC, row["alert_id"], _cleared_message(row)) for row in cleared])

    def _decode_once(self, value: bytes) -> dict[str, Any]:
        record = self._decoded.get(value)
        if record is None:
            record = self._decoded[value] = self._decode(value)
        return record

    def _write_rows(self, conn: sa.Connection, dataset: Dataset, views: dict[str, EntityView],
                    moves: dict[str, str | None]) -> dict[str, dict[str, Any] | None]:
        """Make the dataset's rows for these keys what the builder says; return the changed rows
        (None for a deleted one)."""
        table, key = dataset.table, table_key(dataset)
        stored = {k: h for chunk in in_chunks(views) for k, h in conn.execute(sa.select(key, table.c.row_hash).where(key.in_(chunk)))}
        built = {k: dataset.build(view) for k, view in views.items()}
        changed = {k: row for k, row in built.items() if (row["row_hash"] if row else None) != stored.get(k)}
        if not changed:
            return changed
        for chunk in in_chunks(k for k in changed if k in stored):
            conn.execute(table.delete().where(key.in_(chunk)))
        fresh = [row for row in changed.values() if row]
        if fresh:
            conn.execute(table.insert(), fresh)
        messages = []
        for k, row in changed.items():
            if row:
                messages.append((dataset.changelog_topic, k, {**row, "op": UPSERT, "merged_into": None}))
            else:
                into = moves.get(k)
                messages.append((dataset.changelog_topic, k, {dataset.key: k, "op": MERGE if into else DELETE, "merged_into": into}))
        self._outbox(conn, messages)
        return changed

    def _outbox(self, conn: sa.Connection, messages: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        rows = [{"topic": topic, "key": key, "value": self._encoders[topic](value)} for topic, key, value in messages]
        if rows:
            conn.execute(changelog_outbox.insert(), rows)


def table_key(dataset: Dataset) -> sa.Column:
    return dataset.table.c[dataset.key]


def _alert_message(op: str, alert: Alert) -> dict[str, Any]:
    return {"op": op, "alert_id": alert.alert_id, "rule": alert.rule, "subject": alert.subject, "subject_key": alert.subject_key,
            "amount_at_risk": alert.amount_at_risk, "detail": alert.detail,
            "evidence": [{"topic": r.topic, "source_system": r.source_system, "source_record_id": r.source_record_id} for r in alert.evidence]}


def _cleared_message(row: dict[str, Any]) -> dict[str, Any]:
    return {"op": "CLEARED", **{k: row[k] for k in ("alert_id", "rule", "subject", "subject_key", "amount_at_risk", "detail")},
            "evidence": json.loads(row["evidence"])}


def _lock(conn: sa.Connection, names: list[str]) -> None:
    """Serialise concurrent reconcilers on the same entities and blocks (PostgreSQL transaction-level
    advisory locks, taken in one sorted sweep); SQLite has a single writer and needs none."""
    if conn.dialect.name != "postgresql" or not names:
        return
    ids = sorted({int.from_bytes(hashlib.blake2b(n.encode(), digest_size=8).digest(), "big", signed=True) for n in names})
    conn.execute(sa.text("SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(CAST(:ids AS bigint[])) AS k ORDER BY k) AS s"),
                 {"ids": ids})
