"""Subscribers' view: ds.<dataset>.v1 changelogs and alerts.risk.v1, Avro, keyed, no plaintext ID,
merges visible; the committed changelog schemas match the dataset tables."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from carehub.avro import load_schema
from carehub.broker.base import TopicPartition
from consumers.changelog import changelog_outbox, changelog_schema, schema_path
from consumers.datasets import DATASETS
from consumers.linking import person_link
from consumers.store import Incoming
from consumers.views import PERSON



def test_changelog_schemas_in_schemas_folder_match_the_dataset_tables() -> None:
    for dataset in DATASETS:
        assert load_schema(schema_path(dataset)) == changelog_schema(dataset), f"run python -m consumers.changelog ({dataset.name})"


def test_every_dataset_and_alert_topic_carries_decodable_messages_without_plaintext_ids(region) -> None:  # noqa: ANN001
    plaintext = {region.hub.protector.decrypt(i.record["resident_id_encrypted"]) for i in region.incoming() if i.topic == PERSON}
    with region.hub.broker.admin() as admin:
        topics = admin.list_topics()
        for name in [d.changelog_topic for d in DATASETS] + ["alerts.risk.v1"]:
            messages = [m for p in range(topics[name]) for m in admin.read(TopicPartition(name, p), 0, 100_000)]
            assert messages, name
            for message in messages:
                _, value = region.hub.codec.decode(message.value)
                key_field = "alert_id" if name.startswith("alerts") else next(d.key for d in DATASETS if d.changelog_topic == name)
                assert message.key.decode() == value[key_field]
                text = json.dumps(value, default=str, ensure_ascii=False)
                assert not any(rid in text for rid in plaintext), name


def test_a_record_that_proves_a_provisional_elder_registered_merges_them_in_the_changelog(region, fresh_database) -> None:  # noqa: ANN001
    with region.hub.engine.connect() as conn:
        matched = conn.execute(sa.select(person_link).where(person_link.c.state == "MATCH").limit(1)).mappings().one()
    incoming = region.incoming()
    unidentified = next(i for i in incoming if i.ref.source_record_id == matched["source_record_id"] and i.topic == matched["topic"])
    registry = [i for i in incoming if i.topic == PERSON and i.record["person_key"] == matched["person"]]
    engine = fresh_database("merge")
    reconciliation = region.hub.reconciliation()
    with engine.begin() as conn:
        reconciliation.apply(conn, [unidentified])
        provisional = conn.execute(sa.select(person_link.c.person, person_link.c.state)).one()
    assert provisional.state == "NO_MATCH"
    with engine.begin() as conn:
        reconciliation.apply(conn, registry)
        assert conn.execute(sa.select(person_link.c.person, person_link.c.state)).one() == (matched["person"], "MATCH")
        messages = [region.hub.codec.decode(v)[1] for (t, v) in conn.execute(
            sa.select(changelog_outbox.c.topic, changelog_outbox.c.value).order_by(changelog_outbox.c.id)) if t == "ds.elder.v1"]
    merges = [m for m in messages if m["op"] == "MERGE"]
    assert [(m["person_key"], m["merged_into"]) for m in merges] == [(provisional.person, matched["person"])]


def test_changelog_schema_files_are_valid_avro() -> None:
    import fastavro

    for path in Path("schemas/datasets").glob("*.avsc"):
        fastavro.parse_schema(json.loads(path.read_text(encoding="utf-8")))
