"""`carehub connect report`: the collection-and-validation analysis a data officer sends upstream."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from carehub.demo.persons import generate_persons
from tests.test_cli import connector_yaml, run


def test_report_counts_rejects_by_rule_completeness_and_worst_rows(tmp_path: Path) -> None:
    env = {"CAREHUB_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    generated = generate_persons(tmp_path / "persons.csv", 300, seed=31)
    rows = list(csv.reader(generated.path.open(encoding="utf-8")))
    rows[5][6] = ""  # one address missing
    rows[6][5] = "990101"  # a division code that never existed: published, with a warning
    rows[7][1], rows[7][4] = "12345", "not a date"  # a row breaking two rules
    with generated.path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    published = run(["connect", "run", str(connector_yaml(tmp_path, generated.path)), "--once"], env)
    assert published.returncode == 0, published.stderr

    report = run(["connect", "report", "--format", "json"], env)
    assert report.returncode == 0, report.stderr
    (quality,) = json.loads(report.stdout)
    assert quality["connector"] == "registry-person-csv"
    assert quality["read"] == generated.rows
    assert quality["rejected"] == generated.rows - quality["published"] > generated.bad_checksums
    assert quality["rejects_by_rule"]["resident_id.checksum"] >= generated.bad_checksums
    assert quality["completeness"]["address"] == round((generated.rows - 1) / generated.rows, 4)
    assert quality["completeness"]["name"] == 1.0
    assert quality["warnings_by_rule"] == {"division.unknown": 1}
    worst = quality["worst_positions"][0]
    assert (worst["position"], worst["problems"]) == ("persons.csv:8", 2)

    as_csv = run(["connect", "report", "--format", "csv"], env)
    lines = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert ["registry-person-csv", "count", "read", str(generated.rows)] in lines

    table = run(["connect", "report"], env)
    assert "field completeness" in table.stdout and "persons.csv:8" in table.stdout

    later = run(["connect", "report", "--since", "2999-01-01", "--format", "json"], env)
    assert json.loads(later.stdout) == []
