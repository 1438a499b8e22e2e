"""`carehub subscribe`: read a topic as a subscriber would, Avro decoded through the schema registry, as JSON lines."""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Annotated

import typer

from carehub.broker.base import ConsumerOptions
from carehub.hub import Hub
from carehub.settings import Settings
from consumers.datasets.base import json_value


def subscribe(
    topic: Annotated[str, typer.Argument(help="a catalog topic, e.g. ds.elder.v1 or alerts.risk.v1 (see `carehub topics`)")],
    group: Annotated[str | None, typer.Option(help="consumer group; its committed offsets say where to resume. "
                                              "Default: a new group that reads from the beginning")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="a group with no offsets starts at the end, not the beginning")] = False,
    limit: Annotated[int | None, typer.Option("--max", help="stop after this many messages")] = None,
    until_idle: Annotated[bool, typer.Option("--until-idle", help="stop once the topic is read to its end")] = False,
) -> None:
    """Print a topic's messages as JSON lines ({"partition", "offset", "key", "value"}), Avro decoded
    with the schema registry: what a downstream system sees. Bytes are base64; resident IDs only
    ever appear encrypted or masked."""
    hub = Hub(Settings())
    name = hub.settings.topic_prefix + topic
    options = ConsumerOptions(auto_offset_reset="latest" if latest else "earliest")
    printed, idle_since = 0, time.monotonic()
    with hub.broker.consumer(group or f"carehub-subscribe-{uuid.uuid4().hex[:8]}", [name], options) as consumer, \
            hub.broker.admin() as admin:
        while limit is None or printed < limit:
            messages = consumer.poll(500 if limit is None else min(500, limit - printed), timeout_s=0.5)
            for message in messages:
                value = hub.codec.decode(message.value)[1] if message.value else None
                sys.stdout.write(json.dumps({"partition": message.partition, "offset": message.offset,
                                             "key": message.key.decode() if message.key else None, "value": value},
                                            ensure_ascii=False, default=json_value) + "\n")
            printed += len(messages)
            if messages:
                if group:  # a named group resumes where it stopped; a throwaway one keeps no offsets
                    consumer.commit({m.tp: m.offset + 1 for m in messages})
                idle_since = time.monotonic()
            elif until_idle and consumer.assignment():
                ends = admin.end_offsets(sorted(consumer.assignment()))
                if all(consumer.position(tp) >= ends[tp] for tp in ends):
                    break
            elif until_idle and time.monotonic() - idle_since > 30:
                break
    sys.stdout.flush()
