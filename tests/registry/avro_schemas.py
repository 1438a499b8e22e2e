"""Versions of a person record, as a registry connector would publish them, for the registry tests."""

from __future__ import annotations

import json
from typing import Any

SUBJECT = "src.registry.person.v1-value"

NAME = {"name": "name", "type": "string"}
OPTIONAL_PHONE = {"name": "phone", "type": ["null", "string"], "default": None}
BIRTH_DATE_WITHOUT_DEFAULT = {"name": "birth_date", "type": {"type": "int", "logicalType": "date"}}


def person(*extra_fields: dict[str, Any], name: dict[str, Any] | None = NAME, indent: int | None = None) -> str:
    """A person record: a key, the `name` field (None: no name) and `extra_fields`."""
    fields = [{"name": "person_key", "type": "string"}, *([name] if name else []), *extra_fields]
    return json.dumps(
        {"type": "record", "name": "Person", "namespace": "cn.carehub.registry", "fields": fields},
        indent=indent,
    )
