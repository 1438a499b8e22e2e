"""The demo's connectors: the shipped example YAMLs, and how a canonical row looks in each one's source."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import datetime
from importlib.resources import files
from pathlib import Path

from connectors.sdk.config import ConnectorConfig, load_config

#: One example per record type, read by the demo; its kind says which source form the demo writes.
EXAMPLES = {
    "registry.person": "registry_person_sql.yaml",
    "registry.death": "registry_death.yaml",
    "registry.household_move": "registry_household_move.yaml",
    "health.checkup": "health_checkup.yaml",
    "health.family_doctor_contract": "health_family_doctor_contract.yaml",
    "civil_affairs.enrolment": "civil_affairs_enrolment.yaml",
    "civil_affairs.capability_assessment": "civil_affairs_capability_assessment.yaml",
    "civil_affairs.subsidy_payment": "civil_affairs_subsidy_payment.yaml",
    "civil_affairs.service_record": "civil_affairs_service_record.yaml",
    "civil_affairs.institution": "civil_affairs_institution.yaml",
    "civil_affairs.inspection": "civil_affairs_inspection.yaml",
    "civil_affairs.practitioner": "civil_affairs_practitioner.yaml",
    "civil_affairs.provider_registration": "civil_affairs_provider_registration.yaml",
}
#: The health API's key: the demo's server demands it as a real one would.
API_KEY_ENV = "HEALTH_API_KEY"


def examples_folder() -> Path:
    return Path(str(files("connectors") / "examples"))


def copy_examples(folder: Path) -> dict[str, Path]:
    """The examples copied into the demo folder, so their relative paths find the generated sources."""
    copied = {}
    for record, name in EXAMPLES.items():
        copied[record] = folder / name
        shutil.copyfile(examples_folder() / name, copied[record])
    return copied


def demo_config(path: Path, api_url: str | None, api_key: str) -> ConnectorConfig:
    """A copied example, its HTTP URL pointed at the demo's health API on its actual port."""
    config = load_config(path, {API_KEY_ENV: api_key})
    if config.source.kind != "http" or api_url is None:
        return config
    endpoint = config.source.url.split("/api/", 1)[1]
    return config.model_copy(update={"source": config.source.model_copy(update={"url": f"{api_url}/api/{endpoint}"})})


def source_row(row: Mapping[str, object], config: ConnectorConfig) -> dict[str, object]:
    """A canonical row in the source's columns and code labels: the connector's mapping and
    `values:` run backwards. Keys that are no mapped field are the source's own informational
    columns; keys starting with "_" are the generator's markers and are left out."""
    labels = {field: {code: label for label, code in reversed(table.items())} for field, table in config.values.items()}
    out: dict[str, object] = {}
    for key, value in row.items():
        if key.startswith("_"):
            continue
        if key in config.mapping:
            out[config.mapping[key]] = labels.get(key, {}).get(value, value) if isinstance(value, str) else value
        else:
            out[key] = value
    return out


def text(value: object) -> str | None:
    """A value as an export writes it: times to the second, like the source systems' own."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return None if value is None else str(value)
