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
        body = {
            "origin": self.origin,
            "position": self.position,
            "stage": self.stage,
            "field": self.field,
            "rule": self.rule,
            "message": self.message,
            "record": self.shown,
            "original_encrypted": (
                base64.b64encode(protector.encrypt_bytes(self.original)).decode() if self.original is not None else None
            ),
        }
        return json.dumps(body, ensure_ascii=False, default=str).encode()


def send_dead_letter(producer: Producer, topic: str, letter: DeadLetter, protector: Protector) -> None:
    producer.send(
        topic,
        letter.value(protector),
        key=letter.position.encode(),
        headers=letter.headers(),
    )
