"""The slice end to end: registry CSV → validated, protected Avro → topic → elder dataset.

Runs on the single-machine default (embedded broker + SQLite) and on the real parts
(Apache Kafka + PostgreSQL)."""

from __future__ import annotations

import csv
import json
import logging
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from carehub.broker import ConsumerOptions, Message
from carehub.demo.persons import generate_persons
from carehub.demo.run import example_config
from carehub.hub import Hub
from carehub.identifiers.resident_id import ResidentIdError, normalise, parse
from carehub.settings import Settings
from consumers.datasets.elder import elder


@pytest.fixture(params=["embedded+sqlite", pytest.param("kafka+postgres", marks=[pytest.mark.kafka, pytest.mark.postgres])])
def hub(request: pytest.FixtureRequest, tmp_path: Path, unique: str) -> Hub:
    broker, database = request.param.split("+")
    settings = Settings(
        home=tmp_path / "home",
        broker=request.getfixturevalue("embedded_broker_url" if broker == "embedded" else "kafka_url"),
        database_url=request.getfixturevalue(f"{database}_url"),
        topic_prefix=f"t{unique}.",
        retry_seconds=10,
    )
    return Hub(settings)


def drain(hub: Hub, topic: str) -> list[Message]:
    """Every record of a topic, read by a throwaway group."""
    messages: list[Message] = []
    with hub.broker.consumer(f"drain-{uuid.uuid4().hex[:8]}", [topic], ConsumerOptions(session_timeout_ms=6000, heartbeat_interval_ms=1000)) as consumer:
        idle = 0
        while idle < 6:
            batch = consumer.poll(1000, timeout_s=0.5)
            messages.extend(batch)
            idle = 0 if batch else idle + 1
    return messages


def plaintext_ids(csv_path: Path) -> set[str]:
    ids = set()
    with csv_path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            raw = normalise(row["身份证号"])
            ids.add(raw)
            try:
                ids.add(parse(raw).value)
            except ResidentIdError:
                pass
    return ids


def test_valid_rows_reach_the_elder_dataset_and_bad_ids_reach_the_dlq_only(hub: Hub, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    generated = generate_persons(tmp_path / "persons.csv", 300, seed=7)
    assert generated.bad_checksums > 0

    connector = hub.connector(example_config(generated.path))
    stats = connector.run_once()
    assert stats.read == generated.rows
    assert stats.rejected_by_rule["resident_id.checksum"] == stats.rejected > 0
    assert stats.published == generated.rows - stats.rejected

    reconciled = hub.reconciler(group=f"g-{uuid.uuid4().hex[:6]}").run(until_idle=True)
    assert reconciled.consumed == stats.published
    with hub.engine.connect() as conn:
        rows = conn.execute(sa.select(elder)).mappings().all()
    assert len(rows) == generated.distinct_persons
    assert all(r["resident_id_masked"][6:14] == "********" for r in rows)
    assert {hub.protector.decrypt(r["resident_id_encrypted"]) for r in rows} <= plaintext_ids(generated.path)

    dead = drain(hub, connector.dead_letter_topic)
    assert len(dead) == stats.rejected
    headers = dict(dead[0].headers)
    assert headers["carehub.stage"] == b"validate"
    assert headers["carehub.field"] == b"resident_id"
    assert headers["carehub.rule"] == b"resident_id.checksum"
    assert headers["carehub.source.position"].startswith(b"persons.csv:")
    line = int(headers["carehub.source.position"].split(b":")[1])
    with generated.path.open(encoding="utf-8") as f:
        rejected_row = list(csv.reader(f))[line - 1]
    body = json.loads(dead[0].value)
    assert body["record"]["记录号"] == rejected_row[0]
    assert body["record"]["身份证号"] != rejected_row[1] and body["record"]["身份证号"].count("*") == 8

    # no plaintext resident ID in any topic, table or log line
    secrets_ = plaintext_ids(generated.path)
    published = drain(hub, connector.topic)
    for message in published + dead:
        blob = (message.value or b"") + (message.key or b"") + b"".join(v for _, v in message.headers)
        assert not any(rid.encode() in blob for rid in secrets_)
    with hub.engine.connect() as conn:
        dump = " ".join(str(v) for r in conn.execute(sa.select(elder)).all() for v in r)
    assert not any(rid in dump for rid in secrets_)
    assert not any(rid in caplog.text for rid in secrets_)


def test_rerunning_either_half_changes_nothing(hub: Hub, tmp_path: Path) -> None:
    generated = generate_persons(tmp_path / "persons.csv", 120, seed=11)
    connector = hub.connector(example_config(generated.path))
    first = connector.run_once()
    again = connector.run_once()
    assert again.read == again.published == 0  # the cursor remembers the file

    group = f"g-{uuid.uuid4().hex[:6]}"
    hub.reconciler(group=group).run(until_idle=True)
    with hub.engine.connect() as conn:
        before = conn.execute(sa.select(elder).order_by(elder.c.person_key)).all()
    rerun = hub.reconciler(group=group).run(until_idle=True)
    assert rerun.consumed == 0  # resumed from the offsets stored with the rows
    with hub.engine.connect() as conn:
        assert conn.execute(sa.select(elder).order_by(elder.c.person_key)).all() == before
    assert len(before) == generated.distinct_persons and first.published > 0


def test_the_latest_update_of_a_person_wins_whatever_the_arrival_order(hub: Hub, tmp_path: Path) -> None:
    header = ["记录号", "身份证号", "姓名", "性别", "出生日期", "户籍地区划", "住址", "更新时间"]
    newer = ["R2", "11010519491231002X", "张三", "女", "1949-12-31", "110105", "新地址", "2025-06-01 00:00:00"]
    older = ["R1", "11010519491231002X", "张三", "女", "1949-12-31", "110105", "旧地址", "2024-01-01 00:00:00"]
    path = tmp_path / "persons.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, newer, older])
    hub.connector(example_config(path)).run_once()
    hub.reconciler(group=f"g-{uuid.uuid4().hex[:6]}").run(until_idle=True)
    with hub.engine.connect() as conn:
        (address, provenance), = conn.execute(sa.select(elder.c.address, elder.c.provenance)).all()
    assert address == "新地址" and json.loads(provenance)["address"]["source_record_id"] == "R2"


def test_undecodable_messages_go_to_the_group_dlq_and_do_not_stall_the_partition(hub: Hub, tmp_path: Path) -> None:
    generated = generate_persons(tmp_path / "persons.csv", 30, seed=13)
    connector = hub.connector(example_config(generated.path))
    with hub.broker.producer() as producer:
        producer.send(connector.topic, b"not avro at all", key=b"k")
        producer.flush()
    stats = connector.run_once()
    group = f"g-{uuid.uuid4().hex[:6]}"
    reconciler = hub.reconciler(group=group)
    reconciled = reconciler.run(until_idle=True)
    assert reconciled.dead_lettered_by_rule == {"wire.magic_byte": 1}
    assert reconciled.consumed == stats.published + 1
    with hub.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(elder)) == generated.distinct_persons
    (dead,) = drain(hub, reconciler.dead_letter_topic)
    headers = dict(dead.headers)
    assert headers["carehub.stage"] == b"decode" and headers["carehub.rule"] == b"wire.magic_byte"
    assert headers["carehub.source.position"].startswith(connector.topic.encode() + b"/")


def test_a_running_connector_waits_for_its_source_file_and_then_publishes_it(hub: Hub, tmp_path: Path) -> None:
    import threading

    path = tmp_path / "later.csv"
    config = example_config(path).model_copy(update={"poll_interval_s": 0.2})
    stop, result = threading.Event(), {}
    worker = threading.Thread(target=lambda: result.update(stats=hub.connector(config).run_forever(stop)))
    worker.start()
    try:
        generated = generate_persons(tmp_path / "staged.csv", 20, seed=17)
        generated.path.rename(path)
        deadline = time.monotonic() + 30
        while not drain(hub, f"{hub.settings.topic_prefix}src.registry.person.v1") and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert result["stats"].read == generated.rows


def test_a_row_with_a_megabyte_cell_is_dead_lettered_and_the_run_goes_on(hub: Hub, tmp_path: Path) -> None:
    generated = generate_persons(tmp_path / "persons.csv", 20, seed=19)
    rows = list(csv.reader(generated.path.open(encoding="utf-8")))
    rows[3][6] = "=CMD('calc')'; DROP TABLE elder; --" + "长" * 1_000_000  # formula- and SQL-like, 1 M characters
    with generated.path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    connector = hub.connector(example_config(generated.path))
    stats = connector.run_once()
    assert stats.rejected_by_rule["string_too_long"] == 1
    assert stats.published == generated.rows - stats.rejected
    (dead,) = [m for m in drain(hub, connector.dead_letter_topic) if dict(m.headers)["carehub.rule"] == b"string_too_long"]
    body = json.loads(dead.value)
    assert body["record"]["住址"].startswith("=CMD('calc')'; DROP TABLE elder;")
    assert body["original_encrypted"] is None and body["original_bytes"] > 3_000_000


def test_source_times_without_a_zone_are_read_in_the_connector_s_zone(hub: Hub, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    header = ["记录号", "身份证号", "姓名", "性别", "出生日期", "户籍地区划", "住址", "更新时间"]
    path = tmp_path / "persons.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, ["R1", "11010519491231002X", "张三", "女", "1949-12-31", "110105", "地址", "2025-06-01 08:00:00"]])
    connector = hub.connector(example_config(path))  # the example leaves timezone at Asia/Shanghai
    connector.run_once()
    (message,) = drain(hub, connector.topic)
    assert hub.codec.decode(message.value)[1]["event_time"] == datetime(2025, 6, 1, 0, 0, tzinfo=UTC)
