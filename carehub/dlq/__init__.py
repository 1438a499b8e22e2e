"""Dead-letter queues: rejected records with their context, and the tools that list, show and replay them.

Connectors and reconcilers write dead letters with `send_dead_letter`; `carehub dlq` reads them
back (`carehub.dlq.inspect`) and replays them after a fix (`carehub.dlq.replay`)."""

from carehub.dlq.letter import (
    BODY_FIELDS,
    CONTEXT_HEADERS,
    HEADER_PREFIX,
    DeadLetter,
    StoredLetter,
    send_dead_letter,
)

__all__ = ["BODY_FIELDS", "CONTEXT_HEADERS", "HEADER_PREFIX", "DeadLetter", "StoredLetter", "send_dead_letter"]
