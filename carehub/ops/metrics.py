"""The hub's Prometheus metrics: lag, consumer status, connectors, dead letters and reconcilers.

Names follow Prometheus conventions (base units, `_total` only on counters) and echo KMinion's and
kafka-lag-exporter's consumer-group metrics, so existing Kafka dashboards translate directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from carehub.ops.lag import LagView
from carehub.ops.rules import Status
from connectors.sdk.status import ConnectorStatus

#: The states a connector reports (connectors.sdk.status); a state outside these is shown as well.
CONNECTOR_STATES = ("RUNNING", "PAUSED", "FAILED")
#: What every counter of a connector reads from its status row.
CONNECTOR_COUNTERS = (
    ("carehub_connector_records_read", "read_total", "Source records the connector read."),
    ("carehub_connector_records_published", "published_total", "Records the broker acknowledged."),
    ("carehub_connector_records_rejected", "rejected_total", "Records rejected to the connector's dead-letter topic."),
)

PARTITION_LABELS = ["group", "topic", "partition"]


def _lag_families(view: LagView) -> list[Metric]:
    lag = GaugeMetricFamily(
        "carehub_consumer_group_lag", "Records after the group's committed offset.", labels=PARTITION_LABELS
    )
    lag_seconds = GaugeMetricFamily(
        "carehub_consumer_group_lag_seconds",
        "Age of the oldest record the group has not consumed (0 without lag).",
        labels=PARTITION_LABELS,
    )
    committed = GaugeMetricFamily(
        "carehub_consumer_group_committed_offset", "The group's committed offset.", labels=PARTITION_LABELS
    )
    end = GaugeMetricFamily(
        "carehub_topic_partition_end_offset", "Offset the next record of the partition will get.",
        labels=["topic", "partition"],
    )
    status = GaugeMetricFamily(
        "carehub_consumer_group_status",
        "1 for the group's status (the worst of its partitions' over the window of samples), else 0.",
        labels=["group", "status"],
    )
    ends: dict[tuple[str, str], int] = {}
    for group in view.groups:
        for p in group.partitions:
            labels = [group.group, p.topic, str(p.partition)]
            lag.add_metric(labels, p.lag)
            if p.lag_seconds is not None:
                lag_seconds.add_metric(labels, p.lag_seconds)
            committed.add_metric(labels, p.committed)
            ends[p.topic, str(p.partition)] = p.end
        for each in Status:
            status.add_metric([group.group, each.value], float(each is group.status))
    for labels, offset in sorted(ends.items()):
        end.add_metric(list(labels), offset)
    return [lag, lag_seconds, committed, end, status]


def _connector_families(connectors: Sequence[ConnectorStatus]) -> list[Metric]:
    counters = [
        (CounterMetricFamily(name, text, labels=["connector"]), column) for name, column, text in CONNECTOR_COUNTERS
    ]
    state = GaugeMetricFamily(
        "carehub_connector_state", "1 for the connector's current state, else 0.", labels=["connector", "state"]
    )
    last_poll = GaugeMetricFamily(
        "carehub_connector_last_poll_timestamp_seconds",
        "When the connector last polled its source successfully (Unix time).",
        labels=["connector"],
    )
    for row in connectors:
        for family, column in counters:
            family.add_metric([row.connector], getattr(row, column))
        for each in dict.fromkeys([*CONNECTOR_STATES, row.state]):
            state.add_metric([row.connector, each], float(each == row.state))
        if row.last_poll_at is not None:
            last_poll.add_metric([row.connector], row.last_poll_at.timestamp())
    return [family for family, _ in counters] + [state, last_poll]


def _dead_letter_family(dead_letters: Mapping[str, int]) -> Metric:
    family = GaugeMetricFamily(
        "carehub_dead_letter_records", "Records in the dead-letter topic (its end offsets).", labels=["topic"]
    )
    for topic, records in sorted(dead_letters.items()):
        family.add_metric([topic], records)
    return family


def _reconciler_family(consumed: Mapping[str, int]) -> Metric:
    family = CounterMetricFamily(
        "carehub_reconciler_records_consumed",
        "Records the reconciler group consumed, from the offsets it committed with the datasets.",
        labels=["group"],
    )
    for group, records in sorted(consumed.items()):
        family.add_metric([group], records)
    return family


def metric_families(
    view: LagView,
    connectors: Sequence[ConnectorStatus],
    dead_letters: Mapping[str, int],
    reconciler_consumed: Mapping[str, int],
) -> list[Metric]:
    """Every carehub metric, from one reading of the hub."""
    return [
        *_lag_families(view),
        *_connector_families(connectors),
        _dead_letter_family(dead_letters),
        _reconciler_family(reconciler_consumed),
    ]


class _Families:
    """A collector that hands over metric families read beforehand."""

    def __init__(self, families: Iterable[Metric]):
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


def exposition(families: Iterable[Metric], accept: str = "") -> tuple[bytes, str]:
    """The families in the format the scraper's Accept header asks for (Prometheus text 0.0.4 by
    default, OpenMetrics on request), and that format's content type."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    encode, content_type = choose_encoder(accept)
    return encode(registry), content_type
