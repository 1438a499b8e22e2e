"""The `carehub` command line: connectors, reconcilers, schemas, topics, the server and the demo."""

from __future__ import annotations

import csv
import json
import logging
import signal
import sys
import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from carehub.errors import CarehubError
from carehub.hub import Hub
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
        *_rejects(stats.rejected_by_rule),
    ]))


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


@consume_app.command("run")
def consume_run(
    until_idle: Annotated[bool, typer.Option("--until-idle", help="exit once every assigned partition is read to its end")] = False,
    group: Annotated[str, typer.Option(help="consumer group; start several processes with one group to share the work")] = "carehub-reconciler",
    batch_size: Annotated[int, typer.Option(help="records per database transaction")] = 2000,
) -> None:
    """Reconcile source topics into the datasets; rows and offsets commit in one transaction."""
    reconciler = _hub().reconciler(group, batch_size)
    if not until_idle:
        err.print(f"{group}: reconciling; Ctrl-C stops")
    stats = reconciler.run(_stop_on_signals(), until_idle=until_idle,
                           on_batch=lambda s: err.print(f"[dim]{group}: {s.consumed} consumed, {s.applied} applied[/]"))
    out.print(_counts_table(f"reconciler group {group}", [
        ("consumed", stats.consumed), ("applied to datasets", stats.applied),
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
        subject = subject_for(topic.name)
        schema_id = hub.registry.register(subject, json.dumps(load_schema(topic.schema)))
        latest = hub.registry.version(subject, "latest")
        table.add_row(subject, topic.schema, str(schema_id), str(latest.version))
    out.print(table)


@app.command("topics")
def topics(as_json: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False) -> None:
    """The topic catalog: each topic's key, schema, partitions, retention and purpose."""
    from carehub.topics import CATALOG

    if as_json:
        out.print_json(json.dumps([asdict(t) for t in CATALOG], ensure_ascii=False))
        return
    table = Table("topic", "key", "schema", "partitions", "compacted", "retention", "description")
    for t in CATALOG:
        retention = "forever" if t.retention_ms == -1 else "broker default" if t.retention_ms is None else f"{t.retention_ms // 86_400_000} d"
        table.add_row(t.name, t.key, t.schema or "JSON", str(t.partitions), "yes" if t.compact else "no", retention, t.description)
    out.print(table)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8081,
) -> None:
    """Serve the schema registry (Confluent REST subset) and health endpoints over HTTP."""
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
    manifest = result.generated.manifest
    planted = Table("risk pattern", "base", "rate", "planted", title="planted risk patterns (manifest.json)", title_justify="left")
    for name, p in manifest["patterns"].items():
        planted.add_row(name, str(p["base"]), f"{p['rate']:.0%}", str(p["planted"]))
    out.print(planted)
    out.print(_counts_table("reconciled", [
        ("records consumed", result.consume.consumed), ("elders in the elder dataset", result.elders),
        ("seconds", f"{time.monotonic() - started:.1f}"),
    ]))
    out.print(f"sources and manifest: {result.generated.folder} (regenerated on every run; the demo connectors' "
              "cursors are reset, so each run reads the whole region again)\n"
              "next: carehub topics · carehub connect report · carehub serve")


@app.command("bench")
def bench(
    persons: Annotated[int, typer.Option(help="registry persons to generate, publish and reconcile")] = 100_000,
    kafka: Annotated[str | None, typer.Option(
        help="also time the connector on embedded and on this Kafka, e.g. kafka://127.0.0.1:9092",
        metavar="KAFKA_URL",
    )] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Measure the slice on the configured broker (CAREHUB_BROKER) and database: connector and reconciler records/s.

    The connector figure covers the whole path of a CSV row (map, validate, protect PII, Avro, publish, broker acknowledgement, cursor); the reconciler figure reads the configured broker's topic into the elder dataset. With --kafka the connector also runs on embedded and on that Kafka, so one command compares both transports:

        carehub bench --persons 100000 --kafka kafka://127.0.0.1:9092
    """
    from carehub.bench import run_bench
    from carehub.broker.url import KafkaURL, parse_broker_url

    if kafka is not None and not isinstance(parse_broker_url(kafka, "--kafka"), KafkaURL):
        raise typer.BadParameter(f"{kafka!r} is not a kafka:// URL", param_hint="--kafka")
    result = run_bench(_hub(), persons, progress=lambda text: err.print(f"[dim]{text}[/]"), kafka=kafka)
    if as_json:
        out.print_json(json.dumps(result))
    else:
        out.print(_counts_table(f"carehub bench ({persons} persons)", list(result.items())))


def main() -> None:
    try:
        app()
    except CarehubError as exc:
        err.print(f"[bold red]carehub: {exc}[/]", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
