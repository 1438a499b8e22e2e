"""Commands over the reconciled datasets: review queue, conflicts, alerts, indicators report and export."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from carehub.errors import CarehubError
from carehub.hub import Hub
from carehub.settings import Settings

review_app = typer.Typer(
    help="Records without a valid resident ID whose match to an elder is uncertain (POSSIBLE_MATCH).\n\n"
    "A decision here is MANUAL and never undone by the machine.", no_args_is_help=True)
conflicts_app = typer.Typer(help="Identity fields on which an elder's sources disagree.", no_args_is_help=True)
alerts_app = typer.Typer(help="Risk warnings (风险预警) found across sources.", no_args_is_help=True)

out = Console()
FORMATS = ("table", "json", "csv")


class UnknownReference(CarehubError):
    exit_code = 2


def _hub() -> Hub:
    return Hub(Settings())


def _check_format(output: str) -> None:
    if output not in FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(FORMATS)}", param_hint="--format")


def _emit(rows: list[dict[str, object]], output: str, title: str) -> None:
    """Rows as a Rich table, JSON or CSV: the one output path of these commands."""
    if output == "json":
        out.print_json(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if output == "csv":
        writer = csv.DictWriter(sys.stdout, list(rows[0]) if rows else [])
        writer.writeheader()
        writer.writerows({k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for k, v in r.items()} for r in rows)
        return
    if not rows:
        out.print(f"{title}: none")
        return
    table = Table(*rows[0].keys(), title=title, title_justify="left")
    for row in rows:
        table.add_row(*(json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else "" if v is None else str(v) for v in row.values()))
    out.print(table)


@review_app.command("list")
def review_list(output: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table") -> None:
    """Records waiting for a reviewer, with what they say and their best candidates (masked IDs only)."""
    from consumers.datasets.elder import elder
    from consumers.linking import person_link

    _check_format(output)
    with _hub().engine.connect() as conn:
        waiting = conn.execute(sa.select(person_link).where(person_link.c.state == "POSSIBLE_MATCH")
                               .order_by(person_link.c.ref_id)).mappings().all()
        keys = {k for row in waiting for k, _ in json.loads(row["candidates"])}
        elders = {r.person_key: r for r in conn.execute(sa.select(elder).where(elder.c.person_key.in_(keys)))} if keys else {}
    rows = []
    for row in waiting:
        candidates = [{"person_key": k, "score": s, "masked_id": elders[k].resident_id_masked if k in elders else None,
                       "name": elders[k].name if k in elders else None,
                       "birth_date": str(elders[k].birth_date) if k in elders else None} for k, s in json.loads(row["candidates"])]
        rows.append({"review": row["ref_id"][:12], "record": f"{row['topic']} {row['source_system']}/{row['source_record_id']}",
                     "name": row["name"], "sex": row["sex"], "birth_date": str(row["birth_date"]), "division": row["division"],
                     "candidates": candidates})
    _emit(rows, output, "review queue (carehub review link REVIEW [--to PERSON_KEY] · carehub review reject REVIEW)")


def _decide(review: str, *, link: bool, to: str | None = None) -> None:
    from consumers.changelog import publish_outbox
    from consumers.linking import person_link
    from consumers.reconcile import Outcome

    hub = _hub()
    reconciliation = hub.reconciliation()
    with hub.engine.begin() as conn:
        found = conn.execute(sa.select(person_link).where(person_link.c.ref_id.startswith(review))).mappings().all()
        if len(found) != 1:
            raise UnknownReference(f"{review!r} names {len(found)} records; give the REVIEW column of `carehub review list`")
        row = found[0]
        candidates = json.loads(row["candidates"])
        target = (to or (candidates[0][0] if candidates else None)) if link else None
        if link and target is None:
            raise UnknownReference(f"{review!r} has no candidate; name the elder with --to PERSON_KEY")
        touched = reconciliation.linker.decide_manually(conn, row["ref_id"], target)
        reconciliation.rebuild(conn, {"person": touched}, Outcome(), {})
    with hub.broker.producer() as producer:
        publish_outbox(hub.engine, producer, hub.settings.topic_prefix)
    record = f"{row['topic']} {row['source_system']}/{row['source_record_id']}"
    out.print(f"{record}: linked to {target} (MANUAL MATCH)" if link else f"{record}: kept apart as a provisional elder (MANUAL NO_MATCH)")


@review_app.command("link")
def review_link(
    review: Annotated[str, typer.Argument(help="the REVIEW column of `carehub review list` (a prefix is enough)")],
    to: Annotated[str | None, typer.Option("--to", help="the elder's person key; default: the best candidate")] = None,
) -> None:
    """Link the record to an elder (MANUAL MATCH); the datasets and changelogs follow at once."""
    _decide(review, link=True, to=to)


@review_app.command("reject")
def review_reject(review: Annotated[str, typer.Argument(help="the REVIEW column of `carehub review list`")]) -> None:
    """The record is none of the candidates (MANUAL NO_MATCH): it stays with a provisional elder."""
    _decide(review, link=False)


@conflicts_app.command("list")
def conflicts_list(
    field: Annotated[str | None, typer.Option(help="only this field: name, sex or birth_date")] = None,
    limit: Annotated[int, typer.Option(help="at most this many")] = 100,
    output: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
) -> None:
    """Elders whose sources disagree on an identity field: the value kept and every value offered, with its sources."""
    from consumers.findings import identity_conflict

    _check_format(output)
    query = sa.select(identity_conflict).order_by(identity_conflict.c.person_key, identity_conflict.c.field).limit(limit)
    if field:
        query = query.where(identity_conflict.c.field == field)
    with _hub().engine.connect() as conn:
        rows = [{"person_key": r["person_key"], "field": r["field"], "kept": r["chosen"],
                 "offered": {v: [f"{s['source_system']}/{s['source_record_id']}" for s in refs] for v, refs in json.loads(r["values"]).items()}}
                for r in conn.execute(query).mappings()]
    _emit(rows, output, "identity conflicts (survivorship: registry, then health, then civil affairs; then latest event time)")


@alerts_app.command("list")
def alerts_list(
    rule: Annotated[str | None, typer.Option(help="only this rule (see `carehub alerts rules`)")] = None,
    limit: Annotated[int, typer.Option(help="at most this many")] = 100,
    output: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
) -> None:
    """Open risk warnings: rule, subject, amount at risk and the source records that prove them."""
    from consumers.findings import risk_alert

    _check_format(output)
    query = sa.select(risk_alert).order_by(risk_alert.c.rule, risk_alert.c.subject_key, risk_alert.c.alert_id).limit(limit)
    if rule:
        query = query.where(risk_alert.c.rule == rule)
    with _hub().engine.connect() as conn:
        rows = [{"alert": r["alert_id"][:12], "rule": r["rule"], "subject": f"{r['subject']} {r['subject_key']}",
                 "amount_at_risk": str(r["amount_at_risk"]) if r["amount_at_risk"] is not None else None, "detail": r["detail"],
                 "evidence": [f"{e['source_system']}/{e['source_record_id']}" for e in json.loads(r["evidence"])]}
                for r in conn.execute(query).mappings()]
    _emit(rows, output, "risk alerts")


@alerts_app.command("rules")
def alerts_rules() -> None:
    """The risk rules the reconciler applies."""
    from consumers.alerts import RULES

    _emit([{"rule": name, "subject": rule.subject, "description": rule.description} for name, rule in RULES.items()], "table", "risk rules")


def report(
    output: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
    on: Annotated[str | None, typer.Option("--date", help="the report date (YYYY-MM-DD); default today")] = None,
) -> None:
    """Indicators by division for the pilot's closed loop (数据采集 → 信息分析 → 政策完善): elders alive,
    health checks this year, assessments by capability level, subsidy coverage by type, monthly
    visiting-care coverage of the target groups and alerts by rule."""
    from consumers.indicators import indicators

    _check_format(output)
    with _hub().engine.connect() as conn:
        found = [d.as_dict() for d in indicators(conn, date.fromisoformat(on) if on else date.today())]
    if output != "table":
        _emit(found, output, "")
        return
    table = Table("division", "alive", "checked this year", "assessed", "capability levels", "subsidy coverage",
                  "visiting targets", "visited last month", "alerts", title="carehub report: indicators by division",
                  title_justify="left")
    for d in found:
        table.add_row(d["division"], str(d["elders_alive"]), f"{d['health_check_this_year']:.1%}", f"{d['assessed']:.1%}",
                      " ".join(f"{k}:{v}" for k, v in d["capability_levels"].items()),
                      " ".join(f"{k} {v:.1%}" for k, v in d["subsidy_coverage"].items() if v),
                      str(d["visiting_targets"]), f"{d['visiting_coverage_last_month']:.1%}",
                      " ".join(f"{k}:{v}" for k, v in d["alerts_by_rule"].items()))
    out.print(table)


def export(
    dataset: Annotated[str, typer.Argument(help="elder, health_record, care_service, institution, practitioner or supervision")],
    output_format: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file to write; default standard output")] = None,
) -> None:
    """Write a dataset with its keys, masked IDs, source links and field provenance (never an encrypted or plaintext ID)."""
    from consumers import export as exporter
    from consumers.datasets import DATASETS

    chosen = next((d for d in DATASETS if d.name == dataset), None)
    if chosen is None:
        raise typer.BadParameter(f"use one of {', '.join(d.name for d in DATASETS)}", param_hint="DATASET")
    if output_format not in ("jsonl", "csv"):
        raise typer.BadParameter("use jsonl or csv", param_hint="--format")
    with _hub().engine.connect() as conn:
        if output is None:
            count = exporter.write(conn, chosen, sys.stdout, output_format)
        else:
            with output.open("w", encoding="utf-8", newline="") as f:
                count = exporter.write(conn, chosen, f, output_format)
    Console(stderr=True).print(f"{dataset}: {count} rows" + (f" → {output}" if output else ""))
