"""`carehub bench`: throughput of the slice (CSV → topic → elder dataset) on the configured parts.

The connector section publishes generated registry persons with a fresh connector name (so its
cursor starts at the beginning) and times `run_once`: read, map, validate, protect, encode, send,
wait for the broker's acknowledgement, save the cursor. Given a Kafka URL it runs on embedded and
on that Kafka too, so one command compares the two transports. The reconciler section consumes
the configured broker's topic with a fresh group."""

from __future__ import annotations

import resource
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from carehub.demo.persons import Noise, generate_persons
from carehub.demo.run import example_config
from carehub.hub import Hub

BATCH_SIZE = 5000


def connector_brokers(configured: str, kafka: str | None, embedded_default: str) -> list[str]:
    """The brokers the connector section runs on: the configured one first; with a Kafka URL,
    also embedded (the default file unless embedded is configured) and that Kafka."""
    brokers = [configured]
    if kafka:
        if not any(url.startswith("embedded:") for url in brokers):
            brokers.append(embedded_default)
        if kafka not in brokers:
            brokers.append(kafka)
    return brokers


def _label(url: str) -> str:
    return "embedded" if url.startswith("embedded:") else url


def _time_connector(hub: Hub, csv_path: Path, name: str) -> tuple[int, float]:
    config = example_config(csv_path).model_copy(update={"name": name, "batch_size": BATCH_SIZE})
    connector = hub.connector(config)
    started = time.perf_counter()
    published = connector.run_once().published
    return published, time.perf_counter() - started


def run_bench(
    hub: Hub, persons: int, progress: Callable[[str], None], *, kafka: str | None = None
) -> dict[str, object]:
    """Publish `persons` registry rows on the configured broker (and, given `kafka`, on embedded
    and that Kafka), then reconcile the configured broker's topic; returns the figures as a flat
    dict: `connector records/s` is the configured broker's, `connector records/s on <broker>`
    each broker's when there are several."""
    run = uuid.uuid4().hex[:8]
    progress(f"generating {persons} persons")
    generated = generate_persons(hub.settings.home / "bench" / f"persons-{run}.csv", persons, noise=Noise(bad_checksum=0.0))
    configured = hub.settings.broker_url
    brokers = connector_brokers(configured, kafka, f"embedded://{hub.settings.home / 'bench' / 'broker.db'}")
    rates: dict[str, int] = {}
    published = 0
    for n, url in enumerate(brokers):
        progress(f"publishing on {_label(url)}")
        on = hub if url == configured else Hub(hub.settings.model_copy(update={"broker": url}))
        # A connector name of its own per broker: cursors live in the one database.
        count, seconds = _time_connector(on, generated.path, f"bench-{run}-{n}")
        rates[url] = round(count / seconds)
        if url == configured:
            published = count
    reconciler = hub.reconciler(group=f"bench-{run}", batch_size=BATCH_SIZE)
    progress("reconciling")
    started = time.perf_counter()
    consumed = reconciler.run(until_idle=True).consumed
    consume_s = time.perf_counter() - started
    return {
        "broker": configured,
        "database": hub.engine.url.render_as_string(hide_password=True),
        "records published": published,
        "connector records/s": rates[configured],
        **({f"connector records/s on {_label(url)}": rate for url, rate in rates.items()} if len(rates) > 1 else {}),
        "records reconciled (whole topic)": consumed,
        "reconciler records/s": round(consumed / consume_s),
        "peak memory MiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
