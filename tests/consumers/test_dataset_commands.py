"""What a data officer does with the datasets from the command line: review uncertain links
(and the machine never undoes a reviewer), list conflicts and alerts, report indicators, export."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from carehub.cli import app
from carehub.db.engine import open_database
from consumers.linking import person_link

runner = CliRunner()


@pytest.fixture
def home(region, tmp_path: Path) -> Path:  # noqa: ANN001
    """A copy of the region's hub, so commands that change it leave the shared region alone."""
    region.hub.engine.dispose()
    copy = tmp_path / "home"
    shutil.copytree(region.hub.settings.home, copy, ignore=shutil.ignore_patterns("demo"))
    return copy


def carehub(home: Path, *args: str) -> str:
    result = runner.invoke(app, list(args), env={"CAREHUB_HOME": str(home), "CAREHUB_BROKER": f"embedded://{home / 'broker.db'}",
                                                  "CAREHUB_DATABASE_URL": f"sqlite:///{home / 'hub.db'}", "COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.stdout


def links(home: Path) -> dict[str, tuple[str, str, str]]:
    engine = open_database(f"sqlite:///{home / 'hub.db'}")
    with engine.connect() as conn:
        found = {r.ref_id: (r.state, r.decided_by, r.person) for r in conn.execute(sa.select(person_link))}
    engine.dispose()
    return found


def test_a_reviewer_links_and_rejects_and_the_machine_keeps_both_decisions(region, home: Path) -> None:  # noqa: ANN001
    before = links(home)
    matched = next(ref for ref, (state, _, _) in sorted(before.items()) if state == "MATCH")
    elder = before[matched][2]
    apart = next(ref for ref, (state, _, person) in sorted(before.items()) if state == "MATCH" and person != elder)

    assert "kept apart" in carehub(home, "review", "reject", matched[:12])
    assert "MANUAL MATCH" in carehub(home, "review", "link", apart[:12], "--to", elder)
    decided = links(home)
    assert decided[matched][:2] == ("NO_MATCH", "MANUAL") and decided[matched][2] != elder
    assert decided[apart] == ("MATCH", "MANUAL", elder)

    # every record redelivered and every link decided again: the reviewer's decisions stand
    engine = open_database(f"sqlite:///{home / 'hub.db'}")
    reconciliation = region.hub.reconciliation()
    with engine.begin() as conn:
        reconciliation.apply(conn, region.incoming())
        reconciliation.linker.redecide(conn, list(decided), {})
    engine.dispose()
    assert links(home) == decided


def test_review_list_shows_candidates_with_masked_ids_only(home: Path) -> None:
    listed = json.loads(carehub(home, "review", "list", "--format", "json"))
    for waiting in listed:
        for candidate in waiting["candidates"]:
            assert candidate["masked_id"] is None or "*" in candidate["masked_id"]


def test_conflicts_alerts_and_report_as_table_json_and_csv(home: Path) -> None:
    conflicts = json.loads(carehub(home, "conflicts", "list", "--format", "json"))
    assert conflicts and {c["field"] for c in conflicts} <= {"name", "sex", "birth_date"}
    assert all(len(c["offered"]) >= 2 for c in conflicts)

    alerts = json.loads(carehub(home, "alerts", "list", "--rule", "payment_after_death", "--format", "json"))
    assert alerts and all(a["rule"] == "payment_after_death" and a["evidence"] for a in alerts)
    assert "payment_after_death" in carehub(home, "alerts", "rules")

    report = json.loads(carehub(home, "report", "--format", "json"))
    alive = sum(d["elders_alive"] for d in report)
    assert alive > 0 and all(0 <= d["health_check_this_year"] <= 1 for d in report)
    assert sum(sum(d["alerts_by_rule"].values()) for d in report) == len(json.loads(carehub(home, "alerts", "list", "--limit", "100000", "--format", "json")))
    rows = list(csv.DictReader(io.StringIO(carehub(home, "report", "--format", "csv"))))
    assert {r["division"] for r in rows} == {d["division"] for d in report}
    assert "indicators by division" in carehub(home, "report")


@pytest.mark.parametrize("dataset", ["elder", "health_record", "care_service", "institution", "practitioner", "supervision"])
def test_export_writes_keys_masked_ids_sources_and_provenance(home: Path, dataset: str, tmp_path: Path) -> None:
    lines = [json.loads(line) for line in carehub(home, "export", dataset).splitlines()]
    assert lines
    key = "credit_code" if dataset in ("institution", "supervision") else "person_key"
    assert all(row[key] and row["sources"] and isinstance(row["provenance"], dict) for row in lines)
    assert all("resident_id_encrypted" not in row for row in lines)
    carehub(home, "export", dataset, "--format", "csv", "--output", str(tmp_path / "out.csv"))
    with (tmp_path / "out.csv").open(encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == len(lines)
