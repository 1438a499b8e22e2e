"""`carehub bench`: throughput of the slice (CSV → topic → elder dataset) on the configured parts."""

from __future__ import annotations

import resource
import time
import uuid
from collections.abc import Callable

from carehub.demo.persons import Noise, generate_persons
from carehub.demo.run import example_config
from carehub.hub import Hub


def run_bench(hub: Hub, persons: int, progress: Callable[[str], None]) -> dict[str, object]:
    """Publish `persons` registry rows with a fresh connector name and reconcile them with a
    fresh group, timing each half; returns the figures as a flat dict."""
    run = uuid.uuid4().hex[:8]
    progress(f"generating {persons} persons")
    generated = generate_persons(hub.settings.home / "bench" / f"persons-{run}.csv", persons, noise=Noise(bad_checksum=0.0))
    config = example_config(generated.path).model_copy(update={"name": f"bench-{run}", "batch_size": 5000})
    connector = hub.connector(config)
    progress("publishing")
    started = time.perf_counter()
    published = connector.run_once().published
    connect_s = time.perf_counter() - started
    reconciler = hub.reconciler(group=f"bench-{run}", batch_size=5000)
    progress("reconciling")
    started = time.perf_counter()
    consumed = reconciler.run(until_idle=True).consumed
    consume_s = time.perf_counter() - started
    return {
        "broker": hub.settings.broker_url,
        "database": hub.engine.url.render_as_string(hide_password=True),
        "records published": published,
        "connector records/s": round(published / connect_s),
        "records reconciled (whole topic)": consumed,
        "reconciler records/s": round(consumed / consume_s),
        "peak memory MiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
