"""Entity resolution for person records without a valid resident ID: link, review queue, manual decisions.

A record whose ID is missing or invalid carries identity hints (name, sex, birth date, division).
It is compared with the registered elders that share a blocking key and gets a named link state:
MATCH links it to that elder; POSSIBLE_MATCH puts it in the review queue (`carehub review`),
linked to no one; NO_MATCH links it to a provisional elder keyed by its hints. A MANUAL decision
is never changed by the machine. Only registered elders are candidates, and every record is
decided again whenever an elder in one of its blocks changes, so the links are a function of the
set of records, not of their order."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from carehub.db.metadata import metadata
from carehub.pii import Protector
from consumers.datasets.elder import elder
from consumers.matching import Identity, LinkState, Matcher, blocking_keys
from consumers.store import Incoming, in_chunks, ref_id, set_person

AUTO, MANUAL = "AUTO", "MANUAL"

person_link = sa.Table(
    "person_link",
    metadata,
    sa.Column("ref_id", sa.String(40), primary_key=True),
    sa.Column("topic", sa.String(255), nullable=False),
    sa.Column("source_system", sa.String(128), nullable=False),
    sa.Column("source_record_id", sa.String(128), nullable=False),
    sa.Column("name", sa.String(64)),
    sa.Column("sex", sa.String(1)),
    sa.Column("birth_date", sa.Date),
    sa.Column("division", sa.String(6)),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("decided_by", sa.String(8), nullable=False),
    sa.Column("person", sa.String(64)),
    sa.Column("score", sa.Float),
    sa.Column("candidates", sa.Text, nullable=False),  # JSON: [[person key, score], ...] best first
)

#: Blocking keys of registered elders and of linked records: who must be decided again when an elder changes.
elder_block = sa.Table(
    "elder_block", metadata,
    sa.Column("block", sa.String(128), primary_key=True),
    sa.Column("person_key", sa.String(64), primary_key=True),
)
record_block = sa.Table(
    "record_block", metadata,
    sa.Column("block", sa.String(128), primary_key=True),
    sa.Column("ref_id", sa.String(40), primary_key=True),
)


def hints(record: dict[str, Any]) -> Identity:
    return Identity(record.get("person_name"), record.get("person_sex"), record.get("person_birth_date"), record.get("person_division"))


def is_unidentified(item: Incoming) -> bool:
    return item.entity("person") is None and "person_name" in item.record


class Linker:
    def __init__(self, protector: Protector, matcher: Matcher | None = None):
        self._protector, self._matcher = protector, matcher or Matcher()

    def provisional_key(self, identity: Identity) -> str:
        """The provisional elder of unmatched records with these hints: one per name, sex and birth date."""
        return self._protector.person_key(f"provisional\x1f{identity.name}\x1f{identity.sex}\x1f{identity.birth_date}")

    def blocks(self, item: Incoming) -> list[str]:
        return blocking_keys(hints(item.record))

    def link_records(self, conn: sa.Connection, items: Iterable[Incoming], moves: dict[str, str | None]) -> set[str]:
        """Decide the link of newly stored unidentified records; return the persons touched and
        note in `moves` which elder each relinked record left, and for whom."""
        rows = {}
        for item in items:
            ref = item.ref
            identity = hints(item.record)
            rows[ref_id(ref)] = {"ref_id": ref_id(ref), "topic": ref.topic, "source_system": ref.source_system,
                                 "source_record_id": ref.source_record_id, "name": identity.name, "sex": identity.sex,
                                 "birth_date": identity.birth_date, "division": identity.division}
        return self._decide(conn, rows, moves)

    def redecide(self, conn: sa.Connection, ref_ids: Iterable[str], moves: dict[str, str | None]) -> set[str]:
        """Decide again the machine links of records (after an elder in their blocks changed)."""
        found = conn.execute(sa.select(person_link).where(person_link.c.ref_id.in_(list(ref_ids)))).mappings()
        rows = {r["ref_id"]: {c: r[c] for c in ("ref_id", "topic", "source_system", "source_record_id", "name", "sex", "birth_date", "division")}
                for r in found}
        return self._decide(conn, rows, moves)

    def _decide(self, conn: sa.Connection, rows: dict[str, dict[str, Any]], moves: dict[str, str | None]) -> set[str]:
        if not rows:
            return set()
        before = {r.ref_id: r for r in conn.execute(sa.select(person_link).where(person_link.c.ref_id.in_(list(rows))))}
        identities = {ref: Identity(r["name"], r["sex"], r["birth_date"], r["division"]) for ref, r in rows.items()}
        blocks = {ref: sorted(set(blocking_keys(identity))) for ref, identity in identities.items()}
        identities_by_key, keys_by_block = registered_identities(conn, {b for bs in blocks.values() for b in bs})
        touched: set[str] = set()
        links, decided = {}, []
        for ref, row in rows.items():
            old = before.get(ref)
            if old is not None and old.decided_by == MANUAL:
                links[ref] = old.person
                continue
            in_blocks = {key: identities_by_key[key] for b in blocks[ref] for key in keys_by_block.get(b, ()) if key in identities_by_key}
            result = self._matcher.decide(identities[ref], in_blocks)
            person = {LinkState.MATCH: result.key, LinkState.POSSIBLE_MATCH: None}.get(
                result.state, self.provisional_key(identities[ref]))
            links[ref] = person
            decided.append({**row, "state": str(result.state), "decided_by": AUTO, "person": person, "score": result.score,
                            "candidates": json.dumps([[k, round(s, 3)] for k, s in result.candidates])})
            if old is not None and old.person and old.person != person:
                touched.add(old.person)
                moves[old.person] = person
        if decided:
            conn.execute(person_link.delete().where(person_link.c.ref_id.in_([d["ref_id"] for d in decided])))
            conn.execute(person_link.insert(), decided)
            conn.execute(record_block.delete().where(record_block.c.ref_id.in_([d["ref_id"] for d in decided])))
            conn.execute(record_block.insert(), [{"block": b, "ref_id": d["ref_id"]} for d in decided for b in blocks[d["ref_id"]]])
        set_person(conn, links)
        touched.update(p for p in links.values() if p)
        return touched

    def update_elder_blocks(self, conn: sa.Connection, elders: dict[str, Identity | None]) -> set[str]:
        """Record the blocks of registered elders whose identity changed (None: no longer a
        registered elder); return the records to decide again: those sharing an old or new block."""
        if not elders:
            return set()
        old = {b for (b,) in conn.execute(sa.select(elder_block.c.block).where(elder_block.c.person_key.in_(list(elders))))}
        conn.execute(elder_block.delete().where(elder_block.c.person_key.in_(list(elders))))
        new = [{"block": b, "person_key": key} for key, identity in elders.items() if identity for b in set(blocking_keys(identity))]
        if new:
            conn.execute(elder_block.insert(), new)
        changed = old | {row["block"] for row in new}
        redo: set[str] = set()
        for chunk in in_chunks(changed):
            redo.update(r for (r,) in conn.execute(sa.select(record_block.c.ref_id).where(record_block.c.block.in_(chunk))))
        return redo

    def decide_manually(self, conn: sa.Connection, ref: str, person: str | None) -> set[str]:
        """A reviewer's decision: link to `person`, or (None) keep apart as a provisional elder."""
        row = conn.execute(sa.select(person_link).where(person_link.c.ref_id == ref)).mappings().one()
        target = person or self.provisional_key(Identity(row["name"], row["sex"], row["birth_date"], row["division"]))
        conn.execute(person_link.update().where(person_link.c.ref_id == ref).values(
            state=str(LinkState.MATCH if person else LinkState.NO_MATCH), decided_by=MANUAL, person=target))
        set_person(conn, {ref: target})
        return {p for p in (row["person"], target) if p}


def registered_identities(conn: sa.Connection, blocks: set[str]) -> tuple[dict[str, Identity], dict[str, set[str]]]:
    """The registered elders sharing any of `blocks`: their identities, and who is in which block."""
    keys_by_block: dict[str, set[str]] = {}
    for chunk in in_chunks(blocks):
        for block, key in conn.execute(sa.select(elder_block.c.block, elder_block.c.person_key).where(elder_block.c.block.in_(chunk))):
            keys_by_block.setdefault(block, set()).add(key)
    return registered_identities_of(conn, {k for keys in keys_by_block.values() for k in keys}), keys_by_block


def registered_identities_of(conn: sa.Connection, keys: Iterable[str]) -> dict[str, Identity]:
    """The identities of those of `keys` that are registered elders now."""
    found = {}
    for chunk in in_chunks(keys):
        for row in conn.execute(sa.select(elder.c.person_key, elder.c.status, elder.c.name, elder.c.sex, elder.c.birth_date,
                                          elder.c.household_division).where(elder.c.person_key.in_(chunk))).mappings():
            identity = identity_of(row)
            if identity is not None:
                found[row["person_key"]] = identity
    return found


def identity_of(row: dict[str, Any] | None) -> Identity | None:
    """A registered elder's identity for the matcher, None for provisional or unregistered elders."""
    if row is None or row["status"] != "registered":
        return None
    return Identity(row["name"], row["sex"], row["birth_date"], row["household_division"])

