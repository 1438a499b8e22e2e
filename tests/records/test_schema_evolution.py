"""Every source schema reads the data every earlier version of it wrote (BACKWARD, checked against
each version in git history), so the registry accepts it under the topics' subjects."""

import json
import subprocess
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from fastavro import parse_schema as fastavro_schema
from fastavro import schemaless_reader, schemaless_writer

from carehub.avro import load_schema
from carehub.pii import Protector
from carehub.registry.compatibility import Compatibility, compatibility_problems, parse_schema
from connectors.canonical import HintedPersonRecord
from connectors.records import RECORD_TYPES
from connectors.sdk.record import Envelope
from tests.records.samples import ELDER_ID, sample

REPOSITORY = Path(__file__).parents[2]
SCHEMAS = sorted({t.schema_path for t in RECORD_TYPES.values()})
HINTED = sorted(name for name, t in RECORD_TYPES.items() if issubclass(t, HintedPersonRecord))


def earlier_versions(path: str) -> list[str]:
    """The texts of `schemas/<path>` in each commit that changed it, oldest first."""
    file = f"schemas/{path}"
    commits = subprocess.run(["git", "log", "--reverse", "--format=%H", "--", file], cwd=REPOSITORY,
                             capture_output=True, text=True, check=True).stdout.split()
    return [subprocess.run(["git", "show", f"{commit}:{file}"], cwd=REPOSITORY, capture_output=True, text=True,
                           check=True).stdout for commit in commits]


@pytest.mark.parametrize("path", SCHEMAS)
def test_the_schema_reads_data_written_with_every_earlier_version(path: str) -> None:
    history = [(number, parse_schema(text)) for number, text in enumerate(earlier_versions(path), start=1)]
    assert history, f"schemas/{path} has no version in git history"
    current = parse_schema((REPOSITORY / "schemas" / path).read_text(encoding="utf-8"))
    assert compatibility_problems(f"{path}-value", current, history, Compatibility.BACKWARD_TRANSITIVE) == []


@pytest.mark.parametrize("name", HINTED)
def test_a_record_written_before_the_identity_hints_reads_with_them_null(name: str) -> None:
    record_type = RECORD_TYPES[name]
    first = json.loads(earlier_versions(record_type.schema_path)[0])
    protector = Protector(b"e" * 40)
    avro = record_type.model_validate(sample(name)).to_avro(protector, Envelope("s", "c", datetime(2025, 6, 2, tzinfo=UTC)))
    old_fields = {f["name"] for f in first["fields"]}
    buf = BytesIO()
    schemaless_writer(buf, fastavro_schema(first), {k: v for k, v in avro.items() if k in old_fields})
    back = schemaless_reader(BytesIO(buf.getvalue()), fastavro_schema(first), fastavro_schema(load_schema(record_type.schema_path)))
    assert back["person_key"] == protector.person_key(ELDER_ID)
    assert (back["person_name"], back["person_sex"], back["person_birth_date"], back["person_division"]) == (None,) * 4


def test_a_schema_made_incompatible_would_be_caught() -> None:
    path = "civil_affairs/enrolment.avsc"
    current = json.loads((REPOSITORY / "schemas" / path).read_text(encoding="utf-8"))
    hint_without_default = {"name": "person_alias", "type": "string", "doc": "别名 / alias"}
    broken = parse_schema(json.dumps({**current, "fields": [*current["fields"], hint_without_default]}))
    history = [(n, parse_schema(text)) for n, text in enumerate(earlier_versions(path), start=1)]
    assert compatibility_problems(f"{path}-value", broken, history, Compatibility.BACKWARD_TRANSITIVE) != []
