"""Dead-letter records: what was rejected, where it came from, which stage, field and rule.

Headers carry the context Kafka tools can filter on; the JSON value carries the record with
resident IDs masked, and the original encrypted under the hub secret so it can be replayed."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from carehub.broker.base import Headers, Message, Producer
from carehub.pii import Protector

HEADER_PREFIX = "carehub."
#: Kafka refuses messages over 1 MB by default; a dead letter must always fit, so a shown value
#: is cut to SHOWN_CHARS and an original over ORIGINAL_BYTES is not kept (the source still has it).
SHOWN_CHARS = 2000
ORIGINAL_BYTES = 256 * 1024

#: The context headers of a dead letter (each name follows HEADER_PREFIX) and what they say.
CONTEXT_HEADERS: dict[str, str] = {
    "origin": "the connector or reconciler group that rejected the record",
    "source.position": "where the record is found again: file:line, table:id=…, or topic/partition/offset",
    "stage": "the stage that rejected it: validate (connectors) or decode (reconcilers)",
    "field": "the first field at fault",
    "rule": "the rule that field broke, e.g. resident_id.checksum or wire.unknown_schema",
    "error.class": "the kind of error",
    "error.message": "every problem found, naming field and rule, never the value",
    "rejected.at": "when it was rejected (ISO 8601, UTC)",
    "replay.of": "only on a record a replay rejected again: the dead letter it replaces (topic/partition/offset)",
}

#: The fields of a dead letter's JSON value and what they hold.
BODY_FIELDS: dict[str, str] = {
    "origin": "as the carehub.origin header",
    "position": "as the carehub.source.position header",
    "stage": "as the carehub.stage header",
    "field": "as the carehub.field header",
    "rule": "as the carehub.rule header",
    "message": "as the carehub.error.message header",
    "record": "the rejected row with every resident ID masked (null for undecodable messages)",
    "original_encrypted": "the record exactly as received, AES-GCM encrypted under the hub secret, base64 "
    "(null when it was over 256 KiB)",
    "original_bytes": "the size of the record as received",
}


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
    replay_of: str | None = None  # the dead letter this one replaces, when a replay rejected it again

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
            "replay.of": self.replay_of,
        }
        return tuple((HEADER_PREFIX + k, v.encode()) for k, v in values.items() if v is not None)

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


@dataclass(frozen=True, slots=True)
class StoredLetter:
    """A dead letter as read back from its topic: where it sits, its context and its masked record."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    context: dict[str, str]  # context header name (without HEADER_PREFIX) → value
    record: dict[str, Any] | None
    original_encrypted: str | None  # base64, as stored
    original_bytes: int | None

    @classmethod
    def from_message(cls, message: Message) -> StoredLetter:
        """Parse a dead-letter message; a value that is not a dead letter's JSON keeps only its headers."""
        try:
            body = json.loads(message.value or b"")
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        context = {
            name.removeprefix(HEADER_PREFIX): value.decode("utf-8", errors="replace")
            for name, value in message.headers
            if name.startswith(HEADER_PREFIX)
        }
        record = body.get("record")
        return cls(
            message.topic, message.partition, message.offset, message.timestamp_ms, context,
            record if isinstance(record, dict) else None,
            body.get("original_encrypted") if isinstance(body.get("original_encrypted"), str) else None,
            body.get("original_bytes") if isinstance(body.get("original_bytes"), int) else None,
        )

    @property
    def address(self) -> str:
        """Where this dead letter itself sits: topic/partition/offset."""
        return f"{self.topic}/{self.partition}/{self.offset}"

    @property
    def rule(self) -> str:
        return self.context.get("rule", "unknown")

    @property
    def rejected_at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def original(self, protector: Protector) -> bytes | None:
        """The record exactly as received, decrypted; None when it was too large to keep.

        Raises `cryptography.exceptions.InvalidTag` when it was encrypted under another secret."""
        if self.original_encrypted is None:
            return None
        try:
            token = base64.b64decode(self.original_encrypted, validate=True)
        except binascii.Error:
            return None
        return protector.decrypt_bytes(token)
