"""The `carehub` command line: connectors, reconcilers, schemas, topics, the server and the demo."""

from __future__ import annotations

import csv
import json
import logging
import signal
import sys
import threading
import time
from contextlib import nullcontext
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from carehub import dataset_commands, subscribe
from carehub.query import commands as query_commands
from carehub.errors import CarehubError
from carehub.hub import Hub
from consumers.engine import DEFAULT_BATCH
from carehub.settings import Settings

app = typer.Typer(
    help="carehub: exchange elderly-care data between civil-affairs, health and registry systems.\n\n"
    "Settings come from CAREHUB_* environment variables (see README); the defaults need no services: "
    "an embedded broker and a SQLite database under ./.carehub.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
connect_app = typer.Typer(help="Run connectors that publish source records to topics.", no_args_is_help=True)
consume_app = typer.Typer(help="Run reconcilers that turn topics into datasets.", no_args_is_help=True)
schemas_app = typer.Typer(help="The Avro schemas in schemas/ and the schema registry.", no_args_is_help=True)
app.add_typer(connect_app, name="connect")
app.add_typer(consume_app, name="consume")
app.add_typer(schemas_app, name="schemas")
app.add_typer(dataset_commands.review_app, name="review")
app.add_typer(dataset_commands.conflicts_app, name="conflicts")
app.add_typer(dataset_commands.alerts_app, name="alerts")
app.command("report")(dataset_commands.report)
app.command("export")(dataset_commands.export)
app.command("subscribe")(subscribe.subscribe)
dlq_app = typer.Typer(help="Dead-letter queues: list, show and replay rejected records.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
app.add_typer(query_commands.acl_app, name="acl")
app.add_typer(query_commands.audit_app, name="audit")

out = Console()
err = Console(stderr=True)


def _hub() -> Hub:
    return Hub(Settings())


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@app.callback()
def _logging(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log progress details")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, rich_tracebacks=False)],
    )


def _counts_table(title: str, rows: list[tuple[str, object]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for name, value in rows:
        table.add_row(name, str(value))
    return table


def _rejects(by_rule) -> list[tuple[str, object]]:  # noqa: ANN001
    return [(f"  rejected by {rule}", n) for rule, n in sorted(by_rule.items())]


@connect_app.command("run")
def connect_run(
    file: Annotated[Path, typer.Argument(help="the connector's YAML, e.g. connectors/examples/registry_person_csv.yaml")],
    once: Annotated[bool, typer.Option("--once", help="publish what the source has now, then exit")] = False,
) -> None:
    """Publish a source's new records to their topic; rejected rows go to dlq.<connector>.

    The cursor advances only after the broker acknowledged, so a killed run loses nothing."""
    from connectors.sdk.config import load_config

    hub = _hub()
    config = load_config(file)
    runner = hub.connector(config)
    progress = lambda s: err.print(f"[dim]{config.name}: {s.read} read, {s.published} published, {s.rejected} rejected[/]")  # noqa: E731
    if once:
        stats = runner.run_once(progress)
    else:
        err.print(f"{config.name}: polling every {config.poll_interval_s:g} s; Ctrl-C stops")
        stats = runner.run_forever(_stop_on_signals(), progress)
    out.print(_counts_table(f"connector {config.name} → {config.target_topic}", [
        ("read", stats.read), ("published", stats.published), (f"rejected → dlq.{config.name}", stats.rejected),
        *_rejects(stats.rejected_by_rule), ("worker processes", stats.workers),
    ]))
    if stats.paused:
        err.print(f"[yellow]{config.name} is paused; `carehub connect resume {config.name}` lets it publish again[/]")


@connect_app.command("check")
def connect_check(
    file: Annotated[Path, typer.Argument(help="the connector's YAML")],
    sample: Annotated[int, typer.Option(help="how many mapped records to show")] = 5,
) -> None:
    """Check a connector's YAML and source, and show mapped records without publishing."""
    from connectors.sdk.config import load_config
    from connectors.sdk.pipeline import Rejected, process
    from connectors.sdk.record import Envelope
    config = load_config(file)
    protector = _hub().protector
    envelope = Envelope(config.source_system, config.name, datetime.now(UTC), ZoneInfo(config.timezone))
    batch = next(config.source.open().batches(None, sample), None)
    table = Table(title=f"{config.name}: first {sample} source rows as {config.record}")
    table.add_column("position")
    table.add_column("result")
    for row in batch.rows if batch else []:
        try:
            record = process(row, config, protector, envelope).record
            shown = {k: v for k, v in record.items() if k != "resident_id_encrypted"}
            table.add_row(row.position, json.dumps(shown, ensure_ascii=False, default=str))
        except Rejected as rejected:
            table.add_row(row.position, f"[red]rejected at {rejected.stage}: {rejected}[/]")
    out.print(table)
    out.print(f"[green]{file}: configuration valid; source readable[/]")


@connect_app.command("report")
def connect_report(
    since: Annotated[datetime | None, typer.Option(help="from this time, UTC (e.g. 2026-11-01 or 2026-11-01T08:00)")] = None,
    until: Annotated[datetime | None, typer.Option(help="up to this time, UTC, exclusive")] = None,
    connector: Annotated[str | None, typer.Option(help="only this connector")] = None,
    worst: Annotated[int, typer.Option(help="how many offending source positions to list")] = 10,
    output: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
) -> None:
    """Collection quality per connector: read, published, rejected by rule, field completeness and
    the worst source positions: the report to send to a source system's owner."""
    from connectors.sdk.quality import quality_report

    since, until = (t.replace(tzinfo=t.tzinfo or UTC) if t else None for t in (since, until))
    with _hub().engine.connect() as conn:
        report = quality_report(conn, since, until, connector, worst)
    if output == "json":
        out.print_json(json.dumps([asdict(q) for q in report], ensure_ascii=False))
    elif output == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(["connector", "measure", "name", "value"])
        for q in report:
            writer.writerows([(q.connector, "count", n, v) for n, v in (("read", q.read), ("published", q.published), ("rejected", q.rejected))])
            writer.writerows((q.connector, "rejected_by_rule", rule, n) for rule, n in q.rejects_by_rule.items())
            writer.writerows((q.connector, "warnings_by_rule", rule, n) for rule, n in q.warnings_by_rule.items())
            writer.writerows((q.connector, "completeness", f, share) for f, share in q.completeness.items())
            writer.writerows((q.connector, "worst_position", r.position, f"{r.rule} ({r.problems} problems)") for r in q.worst_positions)
    elif output == "table":
        if not report:
            out.print("no connector batches recorded in that range")
        for q in report:
            out.print(_counts_table(f"connector {q.connector}", [
                ("read", q.read), ("published", q.published), ("rejected", q.rejected), *_rejects(q.rejects_by_rule),
                *[(f"  published with warning {rule}", n) for rule, n in q.warnings_by_rule.items()],
            ]))
            fields = Table("field", "filled", title="field completeness", title_justify="left")
            for name, share in q.completeness.items():
                fields.add_row(name, f"[{'red' if share < 0.9 else 'green'}]{share:.1%}[/]")
            out.print(fields)
            if q.worst_positions:
                worst_table = Table("position", "rule", "field", "problems", title="worst rows", title_justify="left")
                for r in q.worst_positions:
                    worst_table.add_row(r.position, r.rule, r.field, str(r.problems))
                out.print(worst_table)
    else:
        raise typer.BadParameter("use table, json or csv", param_hint="--format")


_STATE_STYLES = {"RUNNING": "green", "PAUSED": "yellow", "FAILED": "bold red"}
#: (state, desired state) an operator's request has not reached yet, as `connect status` shows it.
_ASKED = {("RUNNING", "PAUSED"): "[yellow]PAUSING[/]", ("PAUSED", "RUNNING"): "[green]RESUMING[/]"}


def _utc_text(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else ""


@connect_app.command("status")
def connect_status(as_json: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False) -> None:
    """Each connector's state, last successful poll, running totals and, if FAILED, its last error.

    RUNNING: it polled its source last time; PAUSED: an operator paused it (`connect pause`);
    FAILED: its last poll failed, for the reason shown."""
    from connectors.sdk.status import connector_statuses

    with _hub().engine.connect() as conn:
        statuses = connector_statuses(conn)
    if as_json:
        out.print_json(json.dumps([asdict(s) for s in statuses], default=lambda at: at.isoformat()))
        return
    if not statuses:
        out.print("no connector has run against this hub database yet")
        return
    table = Table(title="connectors", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("connector, topic", overflow="fold")
    table.add_column("state", no_wrap=True)
    table.add_column("last poll, UTC", no_wrap=True)
    for column in ("read", "published", "rejected"):
        table.add_column(column, justify="right", no_wrap=True)
    for s in statuses:
        state = _ASKED.get((s.state, s.desired_state), f"[{_STATE_STYLES[s.state]}]{s.state}[/]")
        last_poll = f"{s.last_poll_at.astimezone(UTC):%Y-%m-%d %H:%M}" if s.last_poll_at else ""
        table.add_row(f"{s.connector}\n[dim]{s.target_topic}[/]", state, last_poll, str(s.read_total),
                      str(s.published_total), str(s.rejected_total))
    out.print(table)
    for s in statuses:
        if s.state == "FAILED":
            out.print(f"[bold red]{s.connector} failed at {_utc_text(s.last_error_at)}:[/] [red]{escape(s.last_error or '')}[/]")


def _want(name: str, desired: str, what: str) -> None:
    from connectors.sdk.status import ConnectorState, set_desired_state

    with _hub().engine.begin() as conn:
        set_desired_state(conn, name, ConnectorState(desired), datetime.now(UTC))
    out.print(f"{name}: {what} at its next poll or batch; `carehub connect status` shows its state")


@connect_app.command("pause")
def connect_pause(name: Annotated[str, typer.Argument(help="the connector's name (name: in its YAML)")]) -> None:
    """Pause a connector: a running `connect run` stops publishing, keeping its cursor, until resumed."""
    _want(name, "PAUSED", "pauses")


@connect_app.command("resume")
def connect_resume(name: Annotated[str, typer.Argument(help="the connector's name (name: in its YAML)")]) -> None:
    """Resume a paused connector: a running `connect run` publishes again from its cursor."""
    _want(name, "RUNNING", "resumes")


@consume_app.command("run")
def consume_run(
    until_idle: Annotated[bool, typer.Option("--until-idle", help="exit once every assigned partition is read to its end")] = False,
    group: Annotated[str, typer.Option(help="consumer group; start several processes with one group to share the work")] = "carehub-reconciler",
    batch_size: Annotated[int, typer.Option(help="records per database transaction")] = DEFAULT_BATCH,
) -> None:
    """Reconcile every source topic into the six basic datasets, link records without a valid ID,
    raise risk alerts and publish ds.<dataset>.v1 changelogs; rows and offsets commit in one
    transaction, so a killed run resumes exactly where the datasets are."""
    reconciler = _hub().reconciler(group, batch_size)
    if not until_idle:
        err.print(f"{group}: reconciling; Ctrl-C stops")
    stats = reconciler.run(_stop_on_signals(), until_idle=until_idle,
                           on_batch=lambda s: err.print(f"[dim]{group}: {s.consumed} consumed, {s.applied} applied[/]"))
    out.print(_counts_table(f"reconciler group {group}", [
        ("consumed", stats.consumed), ("applied to datasets", stats.applied),
        *((f"  {dataset} rows changed", n) for dataset, n in sorted(stats.rows_changed.items())),
        *((f"  alerts raised: {rule}", n) for rule, n in sorted(stats.alerts_raised.items())),
        (f"dead-lettered → dlq.{group}", stats.dead_lettered), *_rejects(stats.dead_lettered_by_rule),
    ]))


@schemas_app.command("register")
def schemas_register() -> None:
    """Register every catalog topic's schema under <topic>-value (BACKWARD compatibility)."""
    from carehub.avro import load_schema, subject_for
    from carehub.topics import CATALOG

    hub = _hub()
    table = Table("subject", "schema", "id", "version")
    for topic in CATALOG:
        if topic.schema is None:
            continue
        subject = subject_for(hub.settings.topic_prefix + topic.name)
        schema_id = hub.registry.register(subject, json.dumps(load_schema(topic.schema)))
        latest = hub.registry.version(subject, "latest")
        table.add_row(subject, topic.schema, str(schema_id), str(latest.version))
    out.print(table)


@app.command("topics")
def topics(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False,
    asyncapi: Annotated[bool, typer.Option(
        "--asyncapi", help="print the catalog as an AsyncAPI 3.0 document for subscribers (YAML; JSON with --json)",
    )] = False,
) -> None:
    """The topic catalog: each topic's key, schema subject and latest registered version, partitions,
    retention and purpose."""
    from carehub.avro import subject_for
    from carehub.topics import CATALOG

    settings = Settings()
    if asyncapi:
        from carehub.asyncapi import asyncapi_document, broker_servers, to_yaml

        document = asyncapi_document(CATALOG, broker_servers(settings), topic_prefix=settings.topic_prefix)
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2) if as_json else to_yaml(document))
        return
    registry = Hub(settings).registry
    registered = set(registry.subjects())
    subjects = {t.name: subject_for(settings.topic_prefix + t.name) if t.schema else None for t in CATALOG}
    versions = {t.name: registry.version(subjects[t.name], "latest").version if subjects[t.name] in registered else None
                for t in CATALOG}
    if as_json:
        out.print_json(json.dumps([{**asdict(t), "subject": subjects[t.name], "version": versions[t.name]} for t in CATALOG],
                                  ensure_ascii=False))
        return
    table = Table("topic", "key", "schema", "subject", "version", "partitions", "compacted", "retention", "description")
    for t in CATALOG:
        retention = "forever" if t.retention_ms == -1 else "broker default" if t.retention_ms is None else f"{t.retention_ms // 86_400_000} d"
        version = str(versions[t.name]) if versions[t.name] else "not registered" if t.schema else ""
        table.add_row(t.name, t.key, t.schema or "JSON", subjects[t.name] or "", version, str(t.partitions),
                      "yes" if t.compact else "no", retention, t.description)
    out.print(table)


def _as_utc(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=t.tzinfo or UTC) if t else None


@dlq_app.command("list")
def dlq_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False) -> None:
    """Every dead-letter queue: its records, how many wait for a replay, and the rules they broke most."""
    from carehub.dlq.ledger import replayed
    from carehub.dlq.queues import dead_letter_topics, read_letters, summarise

    hub = _hub()
    with hub.broker.admin() as admin:
        letters = {queue: read_letters(admin, queue) for queue in dead_letter_topics(admin, hub.settings.topic_prefix)}
    with hub.engine.connect() as conn:
        summaries = [summarise(queue, found, replayed(conn, queue)) for queue, found in letters.items()]
    if as_json:
        out.print_json(json.dumps([asdict(s) for s in summaries], ensure_ascii=False))
        return
    if not summaries:
        out.print("no dead-letter queues yet: nothing was rejected")
        return
    table = Table("queue", "records", "waiting", "top rules (carehub.rule)", title="dead-letter queues", title_justify="left")
    for s in summaries:
        table.add_row(s.topic, str(s.records), str(s.waiting), escape(", ".join(f"{rule} ({n})" for rule, n in s.top_rules)))
    out.print(table)


@dlq_app.command("show")
def dlq_show(
    topic: Annotated[str, typer.Argument(help="the queue, e.g. dlq.registry-person-csv (see `carehub dlq list`)")],
    rule: Annotated[str | None, typer.Option(help="only dead letters of this rule (carehub.rule)")] = None,
    since: Annotated[datetime | None, typer.Option(help="rejected at or after this time, UTC (e.g. 2026-11-01T08:00)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="show the newest N")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False,
) -> None:
    """Dead letters with their context headers and masked record (resident IDs are never shown)."""
    from carehub.dlq.ledger import replayed
    from carehub.dlq.queues import Selection, dead_letter_topics, queue_named, read_letters, shown

    hub = _hub()
    prefix = hub.settings.topic_prefix
    with hub.broker.admin() as admin:
        queue = queue_named(topic, dead_letter_topics(admin, prefix), prefix)
        letters = Selection(rule, _as_utc(since)).of(read_letters(admin, queue))[-limit:]
    with hub.engine.connect() as conn:
        handled = replayed(conn, queue)
    views = [shown(letter, handled.get((letter.partition, letter.offset))) for letter in letters]
    if as_json:
        out.print_json(json.dumps(views, ensure_ascii=False, default=str))
        return
    if not views:
        out.print(f"{queue}: no dead letters match")
    for v in views:
        context = v["context"]
        status = f"replayed: {v['replayed']}" if v["replayed"] else "waiting"
        letter = Table(title=f"{v['letter']} ({status})", show_header=False, title_justify="left", box=box.SIMPLE)
        letter.add_column(style="bold")
        letter.add_column()
        for name, value in (("rejected at", v["rejected_at"]), *((n, context.get(n, "")) for n in (
                "origin", "source.position", "stage", "field", "rule", "error.message", "replay.of") if n in context)):
            letter.add_row(name, escape(value))
        if v["record"] is not None:
            letter.add_row("record", "(resident IDs masked)")
        for column, value in (v["record"] or {}).items():
            letter.add_row(f"  {column}", escape(str(value)))
        if v["record"] is None:
            letter.add_row("record", "(an undecodable message: see its source position)")
        out.print(letter)


@dlq_app.command("replay")
def dlq_replay(
    topic: Annotated[str, typer.Argument(help="the queue, e.g. dlq.registry-person-csv (see `carehub dlq list`)")],
    connector_config: Annotated[Path | None, typer.Option(
        help="the fixed YAML of the connector whose rows these are: they run through its pipeline again")] = None,
    to_source: Annotated[bool, typer.Option(
        "--to-source", help="for a reconciler group's queue: send the messages that now decode back to their topic")] = False,
    rule: Annotated[str | None, typer.Option(help="only dead letters of this rule (carehub.rule)")] = None,
    since: Annotated[datetime | None, typer.Option(help="rejected at or after this time, UTC")] = None,
    until: Annotated[datetime | None, typer.Option(help="rejected before this time, UTC")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show what would happen; send and record nothing")] = False,
) -> None:
    """Replay dead letters after a fix; each dead letter is replayed once, whatever the selection.

    A connector's rows (--connector-config) go through its current pipeline: good rows to its topic,
    rows that still fail back to the queue. A reconciler group's undecodable messages go back to the
    topic they came from, unchanged, with --to-source."""
    from carehub.dlq.queues import Selection, dead_letter_topics, queue_named
    from carehub.dlq.replay import replay_connector, replay_to_source
    from connectors.sdk.config import load_config

    if connector_config is not None and to_source:
        raise typer.BadParameter("a queue holds either a connector's rows or a group's messages; give one",
                                 param_hint="--connector-config / --to-source")
    hub = _hub()
    prefix = hub.settings.topic_prefix
    with hub.broker.admin() as admin:
        queue = queue_named(topic, dead_letter_topics(admin, prefix), prefix)
    selection = Selection(rule, _as_utc(since), _as_utc(until))
    if connector_config is not None:
        report = replay_connector(hub, queue, load_config(connector_config), selection, dry_run=dry_run)
    else:
        report = replay_to_source(hub, queue, selection, dry_run=dry_run or not to_source)
    out.print(_counts_table(f"replay of {queue}", report.counts()))
    if dry_run:
        out.print("dry run: nothing was sent or recorded")
    if connector_config is None and not to_source and (report.published or report.still_rejected):
        out.print(f"Nothing was sent. {queue} holds messages a reconciler group could not decode; the originals are "
                  f"still on their source topics. {report.published} of them decode now: once the cause is fixed "
                  "(e.g. CAREHUB_REGISTRY_URL points at the producer's registry), add --to-source to send them back "
                  "to their topics for the group to read again.")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8081,
) -> None:
    """Serve the hub over HTTP: the schema registry (Confluent REST subset), /healthz and /readyz,
    /metrics, the operations dashboard (/dashboard), and the query API for downstream systems
    (/api/…, OpenAPI docs at /docs; needs CAREHUB_ACCESS_PROFILES)."""
    import uvicorn

    from carehub.api import create_app

    uvicorn.run(create_app(_hub()), host=host, port=port, log_level="warning")


@app.command("demo")
def demo(
    persons: Annotated[int, typer.Option(help="elders in the generated pilot region")] = 5000,
    seed: Annotated[int, typer.Option(help="the same seed gives the same region (on the same day)")] = 2024,
) -> None:
    """Generate a pilot region as a registry database, civil-affairs exports and a health API, run
    every example connector against them, reconcile, and report what was published and planted."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    from carehub.demo.run import run_demo

    hub = _hub()
    err.print(f"carehub demo: broker {hub.settings.broker_url}, database {hub.settings.database}")
    started = time.monotonic()
    tasks: dict[str, TaskID] = {}
    with Progress(TextColumn("{task.description:<36}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[status]}"), console=err) as progress:
        result = run_demo(
            hub, persons, seed,
            on_start=lambda name, rows: tasks.setdefault(name, progress.add_task(name, total=rows, status="")),
            on_batch=lambda name, s: progress.update(tasks[name], completed=s.read,
                                                     status=f"{s.published} published, {s.rejected} rejected"),
            on_consume=lambda s: err.print(f"[dim]reconciler: {s.consumed} consumed[/]"),
        )
    connectors = Table(title=f"carehub demo: {persons} elders, seed {seed}", title_justify="left", box=box.SIMPLE_HEAD)
    rejections = Table("connector", "rejected by rule", "rows", title="rejections (→ dlq.<connector>)",
                       title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("connector", "source", "read", "published", "rejected"):
        connectors.add_column(column, no_wrap=True, min_width=len(column), justify="left" if column in ("connector", "source") else "right")
    for run in result.connectors:
        connectors.add_row(run.name, run.kind, str(run.stats.read), str(run.stats.published), str(run.stats.rejected))
        for rule, n in run.stats.rejected_by_rule.most_common():
            rejections.add_row(run.name, rule, str(n))
    out.print(connectors, rejections)
    out.print(_counts_table("reconciled into the six basic datasets", [
        ("source records consumed", result.consume.consumed),
        *((f"  {name} rows", n) for name, n in result.rows.items()),
        ("records without a valid ID: matched (MATCH)", result.links.get("MATCH", 0)),
        ("  waiting for review (POSSIBLE_MATCH) · carehub review list", result.links.get("POSSIBLE_MATCH", 0)),
        ("  provisional elders (NO_MATCH)", result.links.get("NO_MATCH", 0)),
        ("identity conflicts · carehub conflicts list", result.conflicts),
        ("seconds", f"{time.monotonic() - started:.1f}"),
    ]))
    found = Table("risk pattern (rule)", "rate", "planted records", "found by alerts", "alerts",
                  title="planted risk patterns (manifest.json) against the alerts raised · carehub alerts list", title_justify="left")
    for p in result.patterns:
        colour = "green" if p.found == p.planted else "red"
        rate = result.generated.manifest["patterns"][p.rule]["rate"]
        found.add_row(p.rule, f"{rate:.0%}", str(p.planted), f"[{colour}]{p.found}[/]", str(p.alerts))
    out.print(found)
    out.print(f"sources and manifest: {result.generated.folder} (regenerated on every run; the demo connectors' "
              "cursors are reset, so each run reads the whole region again)\n"
              "next: carehub report · carehub export elder · carehub connect report · carehub topics · carehub serve")


@app.command("bench")
def bench(
    persons: Annotated[int, typer.Option(min=1, help="persons to generate, publish and reconcile")] = 100_000,
    e2e: Annotated[bool, typer.Option("--e2e", help=(
        "end to end: the demo region through every example connector and the reconciler into the six datasets"
    ))] = False,
    seed: Annotated[int, typer.Option(help="with --e2e: the region's seed; the quarter-size region uses the next one")] = 2024,
    batch_size: Annotated[int, typer.Option(min=1, help="with --e2e: records per reconciler transaction")] = DEFAULT_BATCH,
    kafka: Annotated[str | None, typer.Option(
        help="also time the connector on embedded and on this Kafka, e.g. kafka://127.0.0.1:9092 (not with --e2e)",
        metavar="KAFKA_URL",
    )] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Measure the hub on the configured broker (CAREHUB_BROKER) and database (CAREHUB_DATABASE_URL).

    Without --e2e, the registry slice: connector and reconciler records/s. The connector figure covers the whole path of a CSV row (map, validate, protect PII, Avro, publish, broker acknowledgement, cursor); the reconciler figure reads the configured broker's topic into the elder dataset. With --kafka the connector also runs on embedded and on that Kafka, so one command compares both transports:

        carehub bench --persons 100000 --kafka kafka://127.0.0.1:9092

    With --e2e, the whole hub: the demo region's SQL, file-drop and HTTP sources through every example connector (one process), then the reconciler (another process) under fresh topics; source records, seconds and records/s of each phase and end to end, rows added per dataset, each process's peak memory, all again for a quarter of the persons; on Kafka, bare kafka-python's produce and consume rates on the same payloads. Use a fresh database, so the rows added are the region's:

        CAREHUB_BROKER=kafka://127.0.0.1:9092 CAREHUB_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench carehub bench --e2e
    """
    from carehub.bench import report_tables, run_bench, run_e2e
    from carehub.broker.url import KafkaURL, parse_broker_url

    def progress(text: str) -> None:
        err.print(f"[dim]{escape(text)}[/]")

    if e2e:
        if kafka is not None:
            raise typer.BadParameter("--e2e runs on the configured broker: set CAREHUB_BROKER instead", param_hint="--kafka")
        report = run_e2e(_hub().settings, persons, progress, seed=seed, batch_size=batch_size)
        if as_json:
            out.print_json(json.dumps(report.as_json(), ensure_ascii=False))
        else:
            out.print(*report_tables(report), sep="\n")
        return
    if kafka is not None and not isinstance(parse_broker_url(kafka, "--kafka"), KafkaURL):
        raise typer.BadParameter(f"{kafka!r} is not a kafka:// URL", param_hint="--kafka")
    result = run_bench(_hub(), persons, progress=progress, kafka=kafka)
    if as_json:
        out.print_json(json.dumps(result))
    else:
        out.print(_counts_table(f"carehub bench ({persons} persons)", list(result.items())))


@app.command("lag")
def lag(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document (one line) per measurement")] = False,
    watch: Annotated[float | None, typer.Option(
        "--watch", metavar="SECONDS", min=0.5, help="measure again every SECONDS until Ctrl-C",
    )] = None,
    group: Annotated[list[str] | None, typer.Option("--group", "-g", help="only this consumer group (repeatable)")] = None,
) -> None:
    """Consumer lag of every group, with or without active members: per partition the committed and
    end offsets, lag in records and the age of the oldest unconsumed record, and a status (OK, WARN,
    STALL, STOP, REWIND) judged over the recent samples that each call of this command stores."""
    from rich.live import Live

    from carehub.ops.console import lag_table
    from carehub.ops.lag import measure

    hub = _hub()
    stop = _stop_on_signals() if watch else threading.Event()
    live_table = Live(console=out, auto_refresh=False) if watch and not as_json else nullcontext()
    with hub.broker.admin() as admin, live_table as live:
        while True:
            view = measure(admin, hub.engine, groups=group, retry_seconds=hub.settings.retry_seconds)
            missing = sorted(set(group or ()) - {g.group for g in view.groups})
            if missing:
                err.print(f"no committed offsets for group {', '.join(missing)}", style="yellow", markup=False)
            if as_json:
                typer.echo(json.dumps(view.as_json(), ensure_ascii=False))
            elif live is not None:
                live.update(lag_table(view), refresh=True)
            else:
                out.print(lag_table(view))
            if not watch or stop.wait(watch):
                break


def main() -> None:
    try:
        app()
    except CarehubError as exc:
        err.print(f"[bold red]carehub: {exc}[/]", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
