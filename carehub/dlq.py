"""Dead-letter records: what was rejected, where it came from, which stage, field and rule.

Headers carry the context Kafka tools can filter on; the JSON value carries the record with
resident IDs masked, and the original encrypted under the hub secret so it can be replayed."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from carehub.broker.base import Headers, Producer
from carehub.pii import Protector

HEADER_PREFIX = "carehub."
#: Kafka refuses messages over 1 MB by default; a dead letter must always fit, so a shown value
#: is cut to SHOWN_CHARS and an original over ORIGINAL_BYTES is not kept (the source still has it).
SHOWN_CHARS = 2000
ORIGINAL_BYTES = 256 * 1024


def _shortened(value: Any) -> Any:
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        return f"{value[:SHOWN_CHARS]}… ({len(value)} characters)"
    return value


@dataclass(frozen=True, slots=True)
class DeadLetter:
    origin: str  # connector or consumer group
    position: str  # source position: file:line, topic/partition/offset, …
    stage: str
    field: str
    rule: str
    error_class: str
    message: str
    shown: dict[str, Any] | None  # the record with PII masked
    original: bytes | None  # the record exactly as received, to encrypt

    def headers(self) -> Headers:
        values = {
            "origin": self.origin,
            "source.position": self.position,
            "stage": self.stage,
            "field": self.field,
            "rule": self.rule,
            "error.class": self.error_class,
            "error.message": self.message,
            "rejected.at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        return tuple((HEADER_PREFIX + k, v.encode()) for k, v in values.items())

    def value(self, protector: Protector) -> bytes:
        keep_original = self.original is not None and len(self.original) <= ORIGINAL_BYTES
        body = {
            "origin": self.origin,
            "position": self.position,
            "stage": self.stage,
            "field": self.field,
            "rule": self.rule,
            "message": self.message,
            "record": {k: _shortened(v) for k, v in self.shown.items()} if self.shown is not None else None,
            "original_encrypted": base64.b64encode(protector.encrypt_bytes(self.original)).decode() if keep_original else None,
            "original_bytes": len(self.original) if self.original is not None else None,
        }
        return json.dumps(body, ensure_ascii=False, default=str).encode()


def send_dead_letter(producer: Producer, topic: str, letter: DeadLetter, protector: Protector) -> None:
    producer.send(
        topic,
        letter.value(protector),
        key=letter.position.encode(),
        headers=letter.headers(),
    )
