"""`carehub bench`: the hub's throughput on the configured broker and database, for the registry slice or end to end.

The slice bench publishes generated registry persons with a fresh connector name (so its cursor
starts at the beginning) and times `run_once`: read, map, validate, protect, encode, send, wait
for the broker's acknowledgement, save the cursor. Given a Kafka URL it runs on embedded and on
that Kafka too, so one command compares the two transports. Its reconciler section consumes the
configured broker's topic with a fresh group.

The end-to-end bench (`run_e2e`) generates the demo region, runs every example connector against
its SQL, file-drop and HTTP sources in one child process and the reconciler into the six datasets
in another, each under topics of its own (a fresh topic prefix), so every figure, peak memory
included, belongs to one process and one run. It runs a second, quarter-size region to show that
peak memory does not grow with volume, and on Kafka it times bare kafka-python producing and
consuming the same Avro payloads, the ceiling the hub's rates are measured against."""

from __future__ import annotations

import multiprocessing
import resource
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from rich.table import Table
from kafka import TopicPartition as KafkaPartition
from kafka.consumer.fetcher import ConsumerRecord

from carehub.broker.base import TopicSpec
from carehub.broker.kafka import BATCH_SIZE as KAFKA_BATCH_BYTES
from carehub.broker.kafka import COMPRESSION, FETCH_MAX_WAIT_MS, LINGER_MS
from carehub.broker.url import KafkaURL, parse_broker_url
from carehub.demo.generate import Generated, generate
from carehub.demo.persons import Noise, generate_persons
from carehub.demo.run import DEFAULT_SEED, ConnectorRun, dataset_rows, demo_connector_configs, example_config, run_connectors
from carehub.errors import CarehubError
from carehub.hub import Hub
from carehub.settings import Settings
from connectors.sdk.config import ConnectorConfig
from consumers.engine import ReconcileStats
from consumers.store import ROUTES

BATCH_SIZE = 5000


def connector_brokers(configured: str, kafka: str | None, embedded_default: str) -> list[str]:
    """The brokers the connector section runs on: the configured one first; with a Kafka URL,
    also embedded (the default file unless embedded is configured) and that Kafka."""
    brokers = [configured]
    if kafka:
        if not any(url.startswith("embedded:") for url in brokers):
            brokers.append(embedded_default)
        if kafka not in brokers:
            brokers.append(kafka)
    return brokers


def _label(url: str) -> str:
    return "embedded" if url.startswith("embedded:") else url


def _time_connector(hub: Hub, csv_path: Path, name: str) -> tuple[int, float]:
    config = example_config(csv_path).model_copy(update={"name": name, "batch_size": BATCH_SIZE})
    connector = hub.connector(config)
    started = time.perf_counter()
    published = connector.run_once().published
    return published, time.perf_counter() - started


def run_bench(
    hub: Hub, persons: int, progress: Callable[[str], None], *, kafka: str | None = None
) -> dict[str, object]:
    """Publish `persons` registry rows on the configured broker (and, given `kafka`, on embedded
    and that Kafka), then reconcile the configured broker's topic; returns the figures as a flat
    dict: `connector records/s` is the configured broker's, `connector records/s on <broker>`
    each broker's when there are several."""
    run = uuid.uuid4().hex[:8]
    progress(f"generating {persons} persons")
    generated = generate_persons(hub.settings.home / "bench" / f"persons-{run}.csv", persons, noise=Noise(bad_checksum=0.0))
    configured = hub.settings.broker_url
    brokers = connector_brokers(configured, kafka, f"embedded://{hub.settings.home / 'bench' / 'broker.db'}")
    rates: dict[str, int] = {}
    published = 0
    for n, url in enumerate(brokers):
        progress(f"publishing on {_label(url)}")
        on = hub if url == configured else Hub(hub.settings.model_copy(update={"broker": url}))
        # A connector name of its own per broker: cursors live in the one database.
        count, seconds = _time_connector(on, generated.path, f"bench-{run}-{n}")
        rates[url] = round(count / seconds)
        if url == configured:
            published = count
    reconciler = hub.reconciler(group=f"bench-{run}", batch_size=BATCH_SIZE)
    progress("reconciling")
    started = time.perf_counter()
    consumed = reconciler.run(until_idle=True).consumed
    consume_s = time.perf_counter() - started
    return {
        "broker": configured,
        "database": hub.engine.url.render_as_string(hide_password=True),
        "records published": published,
        "connector records/s": rates[configured],
        **({f"connector records/s on {_label(url)}": rate for url, rate in rates.items()} if len(rates) > 1 else {}),
        "records reconciled (whole topic)": consumed,
        "reconciler records/s": round(consumed / consume_s),
        "peak memory MiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


#: The end-to-end bench's second region is this many times smaller: its peak memory should match.
SMALLER_BY = 4
#: What the hub should sustain end to end on Kafka and PostgreSQL, source records per second.
TARGET_RECORDS_S = 10_000
#: Records per reconciler transaction unless told otherwise: `carehub consume run`'s default.
RECONCILER_BATCH = 2000
#: The reconciler's progress line at most this often.
PROGRESS_EVERY_S = 5.0
#: The JSON's raw kafka-python figures on the embedded broker.
RAW_SKIPPED = "skipped, the broker is embedded, not Kafka"
#: What a phase process sends back over its pipe.
PROGRESS, DONE, FAILED = "progress", "done", "failed"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Phase:
    """One phase of an end-to-end run, timed in a process of its own."""

    records: int
    seconds: float
    cpu_seconds: float  # the phase process's own user and system time over those seconds
    peak_mib: int  # the phase process's own peak resident memory
    #: The largest of its child processes (the connector's workers), 0 without: an upper bound, as
    #: Linux counts the RSS a worker's parent had when starting it in the worker's peak.
    children_peak_mib: int

    @property
    def records_per_s(self) -> int:
        return round(self.records / self.seconds) if self.seconds else 0


@dataclass(frozen=True)
class ConnectorPhase:
    phase: Phase  # records: published to the source topics
    runs: list[ConnectorRun]

    @property
    def read(self) -> int:
        return sum(run.stats.read for run in self.runs)

    @property
    def rejected(self) -> int:
        return sum(run.stats.rejected for run in self.runs)


@dataclass(frozen=True)
class ReconcilePhase:
    phase: Phase  # records: consumed from the source topics
    dead_lettered: int


@dataclass(frozen=True)
class E2ERun:
    persons: int
    seed: int
    topic_prefix: str
    connectors: ConnectorPhase
    reconciler: ReconcilePhase
    rows_added: dict[str, int]  # dataset -> rows the run added

    @property
    def records_per_s(self) -> int:
        """Source records over the connector and the reconciler seconds together."""
        seconds = self.connectors.phase.seconds + self.reconciler.phase.seconds
        return round(self.connectors.phase.records / seconds) if seconds else 0


@dataclass(frozen=True)
class RawKafka:
    """Bare kafka-python producing, then consuming, one run's source payloads on a scratch topic."""

    topic: str
    records: int
    produce_seconds: float
    consume_seconds: float

    @property
    def produce_per_s(self) -> int:
        return round(self.records / self.produce_seconds)

    @property
    def consume_per_s(self) -> int:
        return round(self.records / self.consume_seconds)


@dataclass(frozen=True)
class E2EReport:
    broker: str
    database: str
    batch_size: int  # records per reconciler transaction
    runs: list[E2ERun]  # the asked size first, then the smaller one
    raw: RawKafka | None  # None on the embedded broker
    notes: list[str] = field(default_factory=list)  # what makes the figures doubtful

    def as_json(self) -> dict[str, Any]:
        main = self.runs[0]
        raw: dict[str, Any] | str = RAW_SKIPPED
        if self.raw:
            raw = {
                "topic": self.raw.topic,
                "records": self.raw.records,
                "produce records/s": self.raw.produce_per_s,
                "consume records/s": self.raw.consume_per_s,
                "end-to-end / raw produce": round(main.records_per_s / self.raw.produce_per_s, 3),
                "end-to-end / raw consume": round(main.records_per_s / self.raw.consume_per_s, 3),
                "connector / raw produce": round(main.connectors.phase.records_per_s / self.raw.produce_per_s, 3),
                "reconciler / raw consume": round(main.reconciler.phase.records_per_s / self.raw.consume_per_s, 3),
            }
        return {
            "broker": self.broker,
            "database": self.database,
            "reconciler batch size": self.batch_size,
            "target end-to-end records/s": TARGET_RECORDS_S,
            "target met": main.records_per_s >= TARGET_RECORDS_S,
            "runs": [_run_json(run) for run in self.runs],
            "raw kafka-python": raw,
            "notes": self.notes,
        }


def _run_json(run: E2ERun) -> dict[str, Any]:
    connectors, reconciler = run.connectors.phase, run.reconciler.phase
    return {
        "persons": run.persons,
        "seed": run.seed,
        "topic prefix": run.topic_prefix,
        "source rows read": run.connectors.read,
        "rejected to dead-letter topics": run.connectors.rejected,
        "source records": connectors.records,
        "connector seconds": round(connectors.seconds, 2),
        "connector records/s": connectors.records_per_s,
        "connector CPU seconds": round(connectors.cpu_seconds, 2),
        "records reconciled": reconciler.records,
        "reconciler dead-lettered": run.reconciler.dead_lettered,
        "reconciler seconds": round(reconciler.seconds, 2),
        "reconciler records/s": reconciler.records_per_s,
        "reconciler CPU seconds": round(reconciler.cpu_seconds, 2),
        "end-to-end records/s": run.records_per_s,
        "connector peak MiB": connectors.peak_mib,
        "connector workers peak MiB (at most)": connectors.children_peak_mib,
        "reconciler peak MiB": reconciler.peak_mib,
        "rows added per dataset": run.rows_added,
        "connectors": [
            {"connector": r.name, "source": r.kind, "read": r.stats.read, "published": r.stats.published,
             "rejected": r.stats.rejected, "workers": r.stats.workers}
            for r in run.connectors.runs
        ],
    }


#: Figures of a run that the table leaves to --json.
JSON_ONLY = ("persons", "seed", "topic prefix", "rows added per dataset", "connectors")


def report_tables(report: E2EReport) -> list[Table | str]:
    """The report for a terminal: the runs side by side, the raw kafka-python rates, verdicts."""
    runs = [_run_json(run) for run in report.runs]
    table = Table("", *(f"{run.persons} persons" for run in report.runs), title_justify="left",
                  title=f"carehub bench --e2e: source records → six datasets ({report.broker}, {report.database}, "
                        f"reconciler batches of {report.batch_size})")
    for figure in runs[0]:
        if figure not in JSON_ONLY:
            table.add_row(figure, *(str(run[figure]) for run in runs))
    for dataset in runs[0]["rows added per dataset"]:
        table.add_row(f"{dataset} rows added", *(str(run["rows added per dataset"][dataset]) for run in runs))
    shown: list[Table | str] = [table]
    raw = report.as_json()["raw kafka-python"]
    if isinstance(raw, dict):
        raw_table = Table(show_header=False, title_justify="left",
                          title="bare kafka-python on the same payloads (the first run's source records)")
        for figure, value in raw.items():
            raw_table.add_row(figure, str(value))
        shown.append(raw_table)
    else:
        shown.append(f"bare kafka-python rates: {raw}")
    main, smaller = report.runs
    verdict = "[green]met[/]" if main.records_per_s >= TARGET_RECORDS_S else "[red]not met[/]"
    shown += [
        f"end to end {main.records_per_s} source records/s; target ≥ {TARGET_RECORDS_S}: {verdict}",
        f"peak memory at {main.persons} and {smaller.persons} persons: connector process "
        f"{main.connectors.phase.peak_mib} and {smaller.connectors.phase.peak_mib} MiB (workers "
        f"{main.connectors.phase.children_peak_mib} and {smaller.connectors.phase.children_peak_mib}), reconciler "
        f"{main.reconciler.phase.peak_mib} and {smaller.reconciler.phase.peak_mib} MiB",
        "[dim]the smaller region shares some persons and caregivers with the first (their IDs come from the "
        "same counties and dates): its reconciler merges them into the rows the first added, so compare its "
        "memory, not its rates[/]",
        *(f"[yellow]{note}[/]" for note in report.notes),
    ]
    return shown


def run_e2e(
    settings: Settings, persons: int, progress: Progress, *, seed: int = DEFAULT_SEED, batch_size: int = RECONCILER_BATCH,
) -> E2EReport:
    """Generate, publish and reconcile `persons` elders, then `persons // SMALLER_BY` of the next
    seed (mostly other persons, so that run too adds rows); on Kafka, time bare kafka-python on
    the first run's payloads in between. Rows added per dataset are exact on a fresh database."""
    bench = uuid.uuid4().hex[:8]
    hub = Hub(settings)
    with hub.engine.connect() as conn:  # migrates a fresh database before any clock runs
        held = sum(dataset_rows(conn).values())
    notes = [f"the datasets held {held} rows before the bench: a region seen before adds none; "
             "use a fresh database (CAREHUB_DATABASE_URL) or another --seed"] if held else []
    target = parse_broker_url(settings.broker_url)
    main = _e2e_run(hub, persons, seed, batch_size, f"{bench}a", progress)
    raw = _raw_kafka(hub, target, main.topic_prefix, progress) if isinstance(target, KafkaURL) else None
    smaller = _e2e_run(hub, max(1, persons // SMALLER_BY), seed + 1, batch_size, f"{bench}b", progress)
    database = hub.engine.url.render_as_string(hide_password=True)
    return E2EReport(settings.broker_url, database, batch_size, [main, smaller], raw, notes)


def _e2e_run(hub: Hub, persons: int, seed: int, batch_size: int, label: str, progress: Progress) -> E2ERun:
    settings = hub.settings
    prefix = f"{settings.topic_prefix}bench-{label}."
    on_topics = settings.model_copy(update={"topic_prefix": prefix})
    progress(f"generating {persons} persons (seed {seed})")
    generated = generate(settings.home / "bench" / f"region-{persons}", persons, seed)
    progress(f"connectors → topics {prefix}src.*")
    with demo_connector_configs(generated) as configs:  # the health API is served from this process
        connectors = _in_child("connector", _connector_phase, (on_topics, generated, configs), progress)
    with hub.engine.connect() as conn:
        before = dataset_rows(conn)
    progress(f"reconciling {connectors.phase.records} records")
    reconciler = _in_child("reconciler", _reconcile_phase, (on_topics, f"bench-{label}", batch_size), progress)
    with hub.engine.connect() as conn:
        after = dataset_rows(conn)
    return E2ERun(persons, seed, prefix, connectors, reconciler, {name: after[name] - before[name] for name in after})


def _peak_mib(who: int) -> int:
    return round(resource.getrusage(who).ru_maxrss / 1024)  # KiB on Linux


def _cpu_seconds() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def _connector_phase(settings: Settings, generated: Generated, configs: dict[str, ConnectorConfig], progress: Progress) -> ConnectorPhase:
    hub = Hub(settings)
    hub.broker, hub.engine, hub.registry  # noqa: B018 - connect before the clock starts
    started, cpu = time.perf_counter(), _cpu_seconds()
    runs = run_connectors(hub, generated, configs, on_start=lambda name, rows: progress(f"  {name}: {rows} source rows"))
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    published = sum(run.stats.published for run in runs)
    return ConnectorPhase(Phase(published, seconds, cpu, _peak_mib(resource.RUSAGE_SELF), _peak_mib(resource.RUSAGE_CHILDREN)), runs)


def _reconcile_phase(settings: Settings, group: str, batch_size: int, progress: Progress) -> ReconcilePhase:
    reconciler = Hub(settings).reconciler(group, batch_size)  # connects and creates its topics
    shown = time.monotonic()

    def on_batch(stats: ReconcileStats) -> None:
        nonlocal shown
        if time.monotonic() - shown >= PROGRESS_EVERY_S:
            shown = time.monotonic()
            progress(f"  reconciler: {stats.consumed} consumed")

    started, cpu = time.perf_counter(), _cpu_seconds()
    stats = reconciler.run(until_idle=True, on_batch=on_batch)
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    phase = Phase(stats.consumed, seconds, cpu, _peak_mib(resource.RUSAGE_SELF), _peak_mib(resource.RUSAGE_CHILDREN))
    return ReconcilePhase(phase, stats.dead_lettered)


def _in_child(name: str, phase: Callable[..., Any], args: tuple, progress: Progress) -> Any:
    """Run `phase(*args, progress)` in a process of its own; pass its progress lines on and
    return its result.

    Not `spawn`: Linux carries a process's peak RSS across exec, so a child spawned by this
    process (grown by generating the region) would report this process's peak as its own. A
    fork server that imported nothing forks children whose peak is their own."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([])
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(phase, args, sender), name=f"carehub-bench-{name}")
    process.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                process.join()
                raise CarehubError(f"the bench's {name} process died (exit code {process.exitcode}); its output is above") from None
            if kind == PROGRESS:
                progress(payload)
            elif kind == FAILED:
                raise CarehubError(f"the bench's {name} phase failed: {payload}")
            else:
                return payload
    finally:
        receiver.close()
        process.join()


def _child(phase: Callable[..., Any], args: tuple, sender: Connection) -> None:
    try:
        sender.send((DONE, phase(*args, lambda text: sender.send((PROGRESS, text)))))
    except CarehubError as exc:  # says what to change: the parent shows it as it is
        sender.send((FAILED, str(exc)))
    except Exception as exc:
        sender.send((FAILED, f"{type(exc).__name__}: {exc}"))
        raise  # its traceback, on this process's stderr
    finally:
        sender.close()


def _raw_kafka(hub: Hub, target: KafkaURL, prefix: str, progress: Progress) -> RawKafka:
    """Read every record of the run's source topics, then time a bare producer (the hub's
    acknowledgement, idempotence, linger and batch settings; each record to the partition it
    came from, so no partitioner runs) and a bare consumer outside any group on a scratch topic."""
    config = {"bootstrap_servers": list(target.bootstrap_servers), **hub.settings.kafka.client_config()}
    progress("raw kafka-python: reading the run's source payloads")
    reader = KafkaConsumer(group_id=None, enable_auto_commit=False, **config)
    try:
        sources = [KafkaPartition(prefix + topic, p) for topic in ROUTES for p in reader.partitions_for_topic(prefix + topic) or ()]
        records = _read_to_end(reader, sources)
    finally:
        reader.close(autocommit=False)
    partitions = max(tp.partition for tp in sources) + 1
    scratch = f"{prefix}raw-kafka-python"
    with hub.broker.admin() as admin:
        admin.create_topics([TopicSpec(scratch, partitions)])
    progress(f"raw kafka-python: producing {len(records)} records to {scratch}")
    producer = KafkaProducer(
        acks="all", enable_idempotence=True, max_in_flight_requests_per_connection=5,
        linger_ms=LINGER_MS, batch_size=KAFKA_BATCH_BYTES, compression_type=COMPRESSION, **config,
    )
    try:
        started = time.perf_counter()
        for record in records:
            producer.send(scratch, value=record.value, key=record.key, partition=record.partition)
        producer.flush()
        produce_seconds = time.perf_counter() - started
    finally:
        producer.close()
    progress("raw kafka-python: consuming them")
    consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, fetch_max_wait_ms=FETCH_MAX_WAIT_MS, **config)
    try:
        started = time.perf_counter()
        consumed = len(_read_to_end(consumer, [KafkaPartition(scratch, p) for p in range(partitions)]))
        consume_seconds = time.perf_counter() - started
    finally:
        consumer.close(autocommit=False)
    if consumed != len(records):
        raise CarehubError(f"the scratch topic {scratch} gave back {consumed} of {len(records)} records; is another client writing to it?")
    return RawKafka(scratch, consumed, produce_seconds, consume_seconds)


def _read_to_end(consumer: KafkaConsumer, partitions: list[KafkaPartition]) -> list[ConsumerRecord]:
    """Every record of `partitions` from their beginning to their end offset now."""
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = consumer.end_offsets(partitions)
    records: list[ConsumerRecord] = []
    pending = {tp for tp in partitions if ends[tp] > 0}
    while pending:
        for batch in consumer.poll(timeout_ms=500, max_records=10_000).values():
            records += batch
        pending = {tp for tp in pending if consumer.position(tp) < ends[tp]}
    return records
