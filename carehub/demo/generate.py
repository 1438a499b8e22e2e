"""Generate the demo region's sources into a folder: registry database, drop folders, API data, manifest."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from carehub.demo.civil_affairs_files import write_drops
from carehub.demo.connectors import API_KEY_ENV, copy_examples, examples_folder, source_row, text
from carehub.demo.health_api import write_api_data
from carehub.demo.noise import Noise, add_noise
from carehub.demo.region import build_region
from carehub.demo.registry_db import write_registry
from carehub.demo.risks import Rates, plant
from carehub.demo.services import Rows, activity
from connectors.sdk.config import load_config

REGISTRY_DB, HEALTH_DATA, MANIFEST, PERSONS_CSV = "registry.db", "health", "manifest.json", "persons.csv"


@dataclass(frozen=True)
class Generated:
    folder: Path
    configs: dict[str, Path]  # record type → the example YAML copied beside its sources
    manifest: dict


def _persons_csv(path: Path, rows: Rows) -> None:
    """The registry's persons also as the CSV export that registry_person_csv.yaml and docker compose read."""
    config = load_config(examples_folder() / "registry_person_csv.yaml")
    mapped = [source_row({**r, "source_record_id": f"P{n:08d}"}, config) for n, r in enumerate(rows["registry.person"], start=1)]
    header = list(dict.fromkeys(config.mapping.values()))
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *([text(m.get(c)) or "" for c in header] for m in mapped)])


def generate(folder: Path, persons: int, seed: int, *, today: date | None = None,
             rates: Rates = Rates(), noise: Noise = Noise()) -> Generated:
    """Replace `folder` with a fresh region of `persons` elders; the same seed (on the same day)
    gives the same sources. The manifest says what was planted where; which rows each connector
    should reject, and which it should publish with a warning, by rule; and, for the rows published
    without a resident ID, whose they are: the index of the elder in the generated region."""
    today = today or date.today()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    region = build_region(persons, seed, today)
    act = activity(region, seed)
    patterns = plant(act, seed, rates)
    act.providers_and_staff()  # after planting: unregistered providers, over-full homes, lent certificates
    damage = add_noise(act.rows, seed, noise)
    elder_index = {e.rid: n for n, e in enumerate(region.elders)}
    paths = copy_examples(folder)
    configs = {record: load_config(path, {API_KEY_ENV: "unused-here"}) for record, path in paths.items()}
    written = {
        **write_registry(folder / REGISTRY_DB, act.rows, configs),
        **write_drops(folder, act.rows, configs),
        **write_api_data(folder / HEALTH_DATA, act.rows, configs),
    }
    _persons_csv(folder / PERSONS_CSV, act.rows)
    manifest = {
        "seed": seed, "persons": persons, "today": today.isoformat(),
        "institutions": len(region.institutions), "caregivers": len(region.caregivers),
        "deaths": sum(e.died is not None for e in region.elders), "moves": sum(e.moved is not None for e in region.elders),
        "rows": written,
        "expected_rejects": {record: dict(sorted(counts.items())) for record, counts in damage.rejects.items()},
        "expected_warnings": {record: dict(sorted(counts.items())) for record, counts in damage.warnings.items()},
        "unidentified": {record: {source_id: elder_index[rid] for source_id, rid in rows.items()}
                         for record, rows in damage.unidentified.items()},
        "patterns": patterns,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return Generated(folder, paths, manifest)
