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
from typing import Annotated

import typer
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
    envelope = Envelope(config.source_system, config.name, datetime.now(UTC))
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
            writer.writerows((q.connector, "completeness", f, share) for f, share in q.completeness.items())
            writer.writerows((q.connector, "worst_position", r.position, f"{r.rule} ({r.problems} problems)") for r in q.worst_positions)
    elif output == "table":
        if not report:
            out.print("no connector batches recorded in that range")
        for q in report:
            out.print(_counts_table(f"connector {q.connector}", [
                ("read", q.read), ("published", q.published), ("rejected", q.rejected), *_rejects(q.rejects_by_rule),
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
def demo(persons: Annotated[int, typer.Option(help="elders in the generated registry export")] = 2000) -> None:
    """Generate a registry export, publish it, reconcile it into the elder dataset, and report."""
    from carehub.demo.run import run_demo

    hub = _hub()
    err.print(f"carehub demo: broker {hub.settings.broker_url}, database {hub.settings.database}")
    started = time.monotonic()
    result = run_demo(
        hub, persons,
        on_connect=lambda s: err.print(f"[dim]connector: {s.read} read, {s.published} published, {s.rejected} rejected[/]"),
        on_consume=lambda s: err.print(f"[dim]reconciler: {s.consumed} consumed[/]"),
    )
    c = result.connect
    out.print(_counts_table("carehub demo", [
        ("generated rows", result.generated.rows),
        ("  with a planted bad checksum", result.generated.bad_checksums),
        ("published → src.registry.person.v1", c.published),
        ("rejected → dlq.registry-person-csv", c.rejected),
        *_rejects(c.rejected_by_rule),
        ("reconciled records", result.consume.consumed),
        ("elders in the elder dataset", result.elders),
        ("seconds", f"{time.monotonic() - started:.1f}"),
    ]))
    if c.read == 0:
        out.print("[yellow]the connector's cursor was already past these rows: nothing new to publish "
                  "(`make clean` starts the demo afresh)[/]")
    out.print(f"source CSV: {result.generated.path}\nnext: carehub topics · carehub consume run · carehub serve")


@app.command("bench")
def bench(
    persons: Annotated[int, typer.Option(help="registry persons to publish and reconcile")] = 100_000,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Measure the slice on the configured broker and database: connector and reconciler records/s."""
    from carehub.bench import run_bench

    result = run_bench(_hub(), persons, progress=lambda text: err.print(f"[dim]{text}[/]"))
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
