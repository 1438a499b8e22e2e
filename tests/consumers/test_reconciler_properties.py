"""The reconciler on real brokers and databases: the same datasets whatever the topic order, however
many group members share the work, after SIGKILL mid-stream, with undecodable messages mixed in,
and across a restart of Kafka or PostgreSQL."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import kafka
import pytest
import sqlalchemy as sa

from carehub.broker.base import ConsumerOptions, Message, TopicPartition
from carehub.broker.partitioner import key_partition
from carehub.dlq import HEADER_PREFIX
from carehub.hub import Hub
from carehub.topics import catalog_topic
from consumers.engine import ReconcileStats, Reconciler
from consumers.store import ROUTES
from tests.consumers.conftest import Region, snapshot
from tests.consumers.publishing import (
    FRAME,
    SourceRecord,
    create_source_topics,
    publish,
    reframed,
    region_hub,
    source_records,
    stored_offset_total,
)
from tests.test_cli import CAREHUB

PERSON_TOPIC = "src.registry.person.v1"
#: Short sessions, so that a member that left or died gives its partitions away within seconds.
QUICK_GROUP = ConsumerOptions(session_timeout_ms=6000, heartbeat_interval_ms=1000)
SERVICES = Path(__file__).resolve().parents[1] / "services" / "services.sh"


@pytest.fixture(scope="module")
def records(region: Region) -> list[SourceRecord]:
    return source_records(region)


@dataclass
class Stack:
    """A broker and fresh databases of one kind; each hub gets its own database and topic prefix."""

    region: Region
    broker: str
    folder: Path
    unique: str
    new_database: Callable[[], str]
    hubs: list[Hub] = field(default_factory=list)

    @property
    def group(self) -> str:
        """This test's own reconciler group: others share the broker."""
        return f"reconciler-{self.unique}"

    def hub(self, name: str, retry_seconds: float = 30.0) -> Hub:
        hub = region_hub(self.region, self.folder / name, broker=self.broker, database_url=self.new_database(),
                         topic_prefix=f"t{self.unique}{name}.", retry_seconds=retry_seconds)
        self.hubs.append(hub)
        return hub


class SqliteDatabases:
    """Fresh SQLite files under the test's folder; they go with it."""

    def __init__(self, folder: Path):
        self._folder, self._count = folder, itertools.count()

    def create(self) -> str:
        return f"sqlite:///{self._folder / f'datasets-{next(self._count)}.db'}"

    def drop_all(self) -> None:
        """Nothing to do: pytest removes the folder."""


class PostgresDatabases:
    """Fresh PostgreSQL databases on demand, dropped together at the end."""

    def __init__(self, server: str):
        self._server = server
        self._names: list[str] = []
        self._admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", pool_pre_ping=True)

    def create(self) -> str:
        self._names.append(f"carehub_test_{os.urandom(6).hex()}")
        with self._admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self._names[-1]}"'))
        return sa.engine.make_url(self._server).set(database=self._names[-1]).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self._admin.connect() as conn:
            for name in self._names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture(params=[
    "embedded-sqlite",
    pytest.param("kafka-postgres", marks=[pytest.mark.kafka, pytest.mark.postgres]),
])
def stack(request: pytest.FixtureRequest, region: Region, tmp_path: Path, unique: str) -> Iterator[Stack]:
    """The single-machine default (embedded log + SQLite), then production's (Kafka + PostgreSQL)."""
    if request.param == "embedded-sqlite":
        broker, databases = f"embedded://{tmp_path / 'broker.db'}", SqliteDatabases(tmp_path)
    else:
        broker, databases = request.getfixturevalue("kafka_url"), PostgresDatabases(request.getfixturevalue("postgres_server"))
    made = Stack(region, broker, tmp_path, unique, databases.create)
    yield made
    for hub in made.hubs:
        if "engine" in hub.__dict__:
            hub.engine.dispose()
    databases.drop_all()


def reconciler(hub: Hub, group: str, *, batch_size: int = 500) -> Reconciler:
    return Reconciler(broker=hub.broker, codec=hub.codec, engine=hub.engine, protector=hub.protector, group=group,
                      batch_size=batch_size, retry_seconds=hub.settings.retry_seconds, options=QUICK_GROUP,
                      topic_prefix=hub.settings.topic_prefix)


class InBackground:
    """A reconciler running in its own thread; `finish` stops it (or waits for it to go idle) and
    re-raises whatever it died of."""

    def __init__(self, member: Reconciler, *, until_idle: bool = False):
        self.member, self.stop = member, threading.Event()
        self.stats: ReconcileStats | None = None
        self.error: BaseException | None = None
        self._until_idle = until_idle
        self._thread = threading.Thread(target=self._run, name=f"reconciler {member.group}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.stats = self.member.run(self.stop, until_idle=self._until_idle)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc

    def check(self) -> None:
        if self.error is not None:
            raise AssertionError(f"the reconciler died: {self.error!r}") from self.error

    def finish(self, timeout_s: float = 120.0) -> ReconcileStats:
        if not self._until_idle:
            self.stop.set()
        self._thread.join(timeout_s)
        self.check()
        assert not self._thread.is_alive(), f"the reconciler did not finish within {timeout_s} s"
        assert self.stats is not None
        return self.stats

    def abandon(self) -> None:
        """Stop it without looking at how it ended (a failed test's leftovers)."""
        self.stop.set()
        self._thread.join(30)


@pytest.fixture
def in_background() -> Iterator[Callable[..., InBackground]]:
    """Start reconcilers in threads; whatever a test leaves running is stopped after it."""
    started: list[InBackground] = []

    def start(member: Reconciler, *, until_idle: bool = False) -> InBackground:
        started.append(InBackground(member, until_idle=until_idle))
        return started[-1]

    yield start
    for member in started:
        member.abandon()


def wait_until(condition: Callable[[], bool], what: str, *, members: tuple[InBackground, ...] = (),
               timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        for member in members:
            member.check()
        assert time.monotonic() < deadline, f"waited {timeout_s} s for {what}"
        time.sleep(0.1)


# --- 1. order --------------------------------------------------------------------------------------

def test_topics_arriving_one_by_one_in_reverse_give_the_datasets_of_an_in_order_replay(
    region: Region, records: list[SourceRecord], stack: Stack, in_background: Callable[..., InBackground],
) -> None:
    in_order = stack.hub("inorder")
    publish(region, in_order, records)
    reconciler(in_order, stack.group).run(until_idle=True)

    # Each topic arrives only after the previous one is reconciled, newest record first: payments
    # and deaths before the persons they name, services before the caregivers who gave them.
    reverse = stack.hub("reverse")
    create_source_topics(reverse)
    member = in_background(reconciler(reverse, stack.group))
    published = 0
    for topic in reversed(ROUTES):
        published += publish(region, reverse, [r for r in reversed(records) if r.topic == topic])
        wait_until(lambda: stored_offset_total(reverse.engine, stack.group) == published,
                   f"{topic} to be reconciled", members=(member,))
    member.finish()

    assert snapshot(reverse.engine) == snapshot(in_order.engine) == snapshot(region.hub.engine)


# --- 2. parallel members -----------------------------------------------------------------------------

def _group_members(kafka_url: str, group: str) -> int:
    """Members of a stable Kafka consumer group (0 while it rebalances)."""
    admin = kafka.KafkaAdminClient(bootstrap_servers=kafka_url.removeprefix("kafka://").split(","))
    try:
        described = admin.describe_groups([group])[group]
    finally:
        admin.close()
    return len(described["members"]) if described["group_state"] == "Stable" else 0


@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.parametrize("members", [2, 3])
def test_members_sharing_one_group_give_the_datasets_of_one(
    region: Region, records: list[SourceRecord], kafka_url: str, postgres_url: str, tmp_path: Path, unique: str,
    in_background: Callable[..., InBackground], members: int,
) -> None:
    hub = region_hub(region, tmp_path, broker=kafka_url, database_url=postgres_url, topic_prefix=f"t{unique}.")
    create_source_topics(hub)
    name = f"reconciler-{unique}"
    # small batches, so that the members' transactions interleave on shared caregivers, providers and blocks
    group = tuple(in_background(reconciler(hub, name, batch_size=25)) for _ in range(members))
    wait_until(lambda: _group_members(kafka_url, name) == members, f"{members} members to join", members=group)
    published = publish(region, hub, records)
    wait_until(lambda: stored_offset_total(hub.engine, name) == published, "every record to be reconciled", members=group)
    consumed = [member.finish().consumed for member in group]

    assert all(consumed), f"a member got no work: {consumed}"
    assert snapshot(hub.engine) == snapshot(region.hub.engine)


# --- 3. SIGKILL -----------------------------------------------------------------------------------

def test_a_reconciler_killed_mid_stream_and_restarted_gives_the_datasets_of_an_uninterrupted_run(
    region: Region, records: list[SourceRecord], stack: Stack, tmp_path: Path,
) -> None:
    hub = stack.hub("crash")
    published = publish(region, hub, records)
    env = {**os.environ, "CAREHUB_HOME": str(tmp_path / "crash"), "CAREHUB_BROKER": stack.broker,
           "CAREHUB_DATABASE_URL": hub.settings.database, "CAREHUB_TOPIC_PREFIX": hub.settings.topic_prefix,
           "CAREHUB_SECRET_KEY": region.hub.settings.secret.decode()}
    # small transactions, so that a kill lands between stored offsets of one run
    command = CAREHUB + ["consume", "run", "--until-idle", "--group", stack.group, "--batch-size", "20"]
    with (tmp_path / "killed.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    try:
        wait_until(lambda: process.poll() is not None or stored_offset_total(hub.engine, stack.group) >= 200,
                   "the reconciler to store offsets")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert stored_offset_total(hub.engine, stack.group) < published, "the reconciler finished before it was killed"

    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)

    assert finished.returncode == 0, finished.stderr
    assert stored_offset_total(hub.engine, stack.group) == published
    assert snapshot(hub.engine) == snapshot(region.hub.engine)


# --- 4. undecodable messages ----------------------------------------------------------------------

def test_undecodable_messages_go_to_the_group_dead_letter_queue_and_the_records_after_them_are_reconciled(
    region: Region, records: list[SourceRecord], stack: Stack,
) -> None:
    hub = stack.hub("dlq")
    create_source_topics(hub)
    person = next(r for r in records if r.topic == PERSON_TOPIC)
    framed = reframed(region, hub, person)
    bad = {  # rule -> message; all on the person's partition, ahead of every good record
        "wire.magic_byte": b"\x7b\"not\": \"Avro\"}",
        "wire.unknown_schema": FRAME.pack(0, 2**31 - 1) + framed[FRAME.size:],
        "wire.avro": framed[:FRAME.size],
    }
    topic = hub.settings.topic_prefix + PERSON_TOPIC
    with hub.broker.producer() as producer:
        for value in bad.values():
            producer.send(topic, value, key=person.key)
        producer.flush()
    publish(region, hub, records)

    stats = reconciler(hub, stack.group).run(until_idle=True)

    assert snapshot(hub.engine) == snapshot(region.hub.engine)
    assert stats.dead_lettered_by_rule == {rule: 1 for rule in bad}
    partition = key_partition(person.key, catalog_topic(PERSON_TOPIC).partitions)
    dead_letters = catalog_topic(f"dlq.{stack.group}").spec(hub.settings.topic_prefix).name
    with hub.broker.admin() as admin:
        letters = admin.read(TopicPartition(dead_letters, 0), 0, 100)
    assert len(letters) == len(bad)
    assert {context["rule"]: context for context in map(_context, letters)} == {
        rule: {"origin": stack.group, "source.position": f"{topic}/{partition}/{offset}", "stage": "decode",
               "field": "value", "rule": rule, "error.class": "UndecodableMessage"}
        for offset, rule in enumerate(bad)
    }


def _context(letter: Message) -> dict[str, str]:
    """The dead letter's context headers that name where and why, without the prefix."""
    wanted = ("origin", "source.position", "stage", "field", "rule", "error.class")
    headers = {name.removeprefix(HEADER_PREFIX): value.decode() for name, value in letter.headers}
    return {name: headers[name] for name in wanted}


# --- 5. outages -------------------------------------------------------------------------------------

#: Long enough for a restart of either service, however slow the shared test broker is to stop.
OUTAGE_BUDGET_S = 180.0


@dataclass(frozen=True)
class Outage:
    """How reconcilers meet an outage of one service."""

    modes: tuple[str, ...]  # "serving" runs until stopped; "batch" exits once idle (--until-idle)
    waiting_line: str | None  # what their backoff logs while they wait
    late_topic: str | None  # held back from the serving reconciler and published during the outage


OUTAGES = {
    # The hub's schema registry is in the database: the serving reconciler, idle by then, receives
    # records of a schema it has not read yet while it cannot look the schema up.
    "postgres": Outage(("serving", "batch"), "waiting for the database at", "src.civil_affairs.provider_registration.v1"),
    # A batch reconciler does not wait for Kafka yet (it asks for end offsets once and dies), and
    # nothing of carehub's says that it waits for Kafka.
    "kafka": Outage(("serving",), None, None),
}


def _services(action: str, service: str) -> None:
    done = subprocess.run([str(SERVICES), action, service], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"services.sh {action} {service} failed: {done.stderr or done.stdout}"


def interrupt(service: str, meanwhile: Callable[[], None], down_s: float = 3.0) -> None:
    """Stop the service (everyone's tests see it go, so briefly), do `meanwhile`, and start it
    again on its data, whatever happens."""
    try:
        _services("stop", service)
        meanwhile()
        time.sleep(down_s)
    finally:
        _services("start", service)


@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.parametrize("stack", ["kafka-postgres"], indirect=True)
@pytest.mark.parametrize("service", list(OUTAGES))
def test_reconcilers_wait_out_a_restart_and_end_with_the_datasets_of_an_undisturbed_run(
    region: Region, records: list[SourceRecord], stack: Stack, in_background: Callable[..., InBackground], service: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    outage = OUTAGES[service]
    hubs = {mode: stack.hub(mode, retry_seconds=OUTAGE_BUDGET_S) for mode in outage.modes}
    groups = {mode: f"{stack.group}-{mode}" for mode in outage.modes}
    held_back = {mode: outage.late_topic if mode == "serving" else None for mode in outage.modes}
    published = {mode: publish(region, hubs[mode], [r for r in records if r.topic != held_back[mode]]) for mode in outage.modes}
    # under way when the outage begins: mid-stream, or done with what it has if late records are to come
    under_way = {mode: published[mode] if held_back[mode] else 100 for mode in outage.modes}
    late = [(r.key, reframed(region, hubs["serving"], r)) for r in records if r.topic == outage.late_topic]
    progress = {mode: lambda mode=mode: stored_offset_total(hubs[mode].engine, groups[mode]) for mode in outage.modes}
    members: dict[str, InBackground] = {}
    for mode in outage.modes:  # one after the other, so that each is under way when the outage begins
        members[mode] = in_background(reconciler(hubs[mode], groups[mode], batch_size=10), until_idle=mode == "batch")
        wait_until(lambda mode=mode: progress[mode]() >= under_way[mode], f"the {mode} reconciler to be under way",
                   members=(members[mode],))
    before = {mode: p() for mode, p in progress.items()}
    assert max(before.values()) < len(records), f"the work was done before the outage ({before}): make the stream longer"

    def publish_late() -> None:
        with hubs["serving"].broker.producer() as producer:
            for key, value in late:
                producer.send(hubs["serving"].settings.topic_prefix + str(outage.late_topic), value, key=key)

    interrupt(service, publish_late if late else lambda: None)

    for mode in outage.modes:
        wait_until(lambda mode=mode: progress[mode]() == len(records), f"the {mode} reconciler to resume after the restart",
                   members=(members[mode],), timeout_s=OUTAGE_BUDGET_S)
        members[mode].finish(OUTAGE_BUDGET_S)
        assert snapshot(hubs[mode].engine) == snapshot(region.hub.engine), f"the {mode} reconciler"
    if outage.waiting_line:
        assert outage.waiting_line in caplog.text
