"""The broker metric families kcr reads, and the PromQL for each: a fixed list, no free text.

Queries use the metric names of the common Kafka JMX exporter rules (Strimzi's, and
``kcr/embedded/maven/jmx/jmx-exporter.yaml``), and expect each series to carry the broker
id in a ``broker`` label, as the scrape configuration's relabelling sets it. The log dir's
filesystem comes from the Prometheus node exporter on each broker's host (its
``node_filesystem_*`` series, labelled with the broker the same way), for one mount point.
"""

import math
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from kcr.mcp.prometheus import MetricSeries, PrometheusPort
from kcr.model import Evidence, EvidenceKind, TimeWindow
from kcr.model.base import KubeModel

RATE_WINDOW = "1m"


class MetricFamily(StrEnum):
    BYTES_IN = "bytes_in"
    BYTES_OUT = "bytes_out"
    PRODUCE_LATENCY = "produce_latency"
    FETCH_LATENCY = "fetch_latency"
    REQUEST_HANDLER_IDLE = "request_handler_idle"
    UNDER_REPLICATED = "under_replicated"
    LOG_DIR_USAGE = "log_dir_usage"
    THROTTLE_TIME = "throttle_time"
    LOG_DIR_DISK_USED = "log_dir_disk_used"


# Where the brokers' log dirs live unless told (Strimzi's and the Kafka images' data path).
DEFAULT_LOG_DIR_MOUNTPOINT = "/var/lib/kafka"
Mountpoint = Annotated[
    str,
    Field(
        pattern=r"^/[A-Za-z0-9._/-]*$",
        max_length=256,
        description="The mount point of the brokers' log dirs, as the node exporter names it",
    ),
]


UNITS = {
    MetricFamily.BYTES_IN: "bytes/s",
    MetricFamily.BYTES_OUT: "bytes/s",
    MetricFamily.PRODUCE_LATENCY: "ms (p99)",
    MetricFamily.FETCH_LATENCY: "ms (p99)",
    MetricFamily.REQUEST_HANDLER_IDLE: "ratio (1 = idle)",
    MetricFamily.UNDER_REPLICATED: "partitions",
    MetricFamily.LOG_DIR_USAGE: "bytes",
    MetricFamily.THROTTLE_TIME: "ms (mean over the quota window, per client)",
    MetricFamily.LOG_DIR_DISK_USED: "fraction of the log dir's filesystem used",
}

# Families that have a per-topic series.
BY_TOPIC = frozenset({MetricFamily.BYTES_IN, MetricFamily.BYTES_OUT, MetricFamily.LOG_DIR_USAGE})
# Labels that name a client on the quota sensors' series: exporter rules differ in case and
# punctuation (Strimzi's ``clientId``; lower-cased label names give ``clientid``).
USER_LABEL = "user"
CLIENT_ID_LABELS = ("clientId", "clientid", "client_id")
CLIENT_LABELS = (USER_LABEL, *CLIENT_ID_LABELS)


def client_of(labels: dict[str, str]) -> tuple[str, str]:
    """(user, client id) a quota series names; empty where the exporter left one out."""
    client_id = next((labels[k] for k in CLIENT_ID_LABELS if labels.get(k)), "")
    return labels.get(USER_LABEL, ""), client_id


def _selector(broker: int | None, extra: str = "") -> str:
    parts = [p for p in (extra, f'broker="{broker}"' if broker is not None else "") if p]
    return "{" + ",".join(parts) + "}"


def promql(
    family: MetricFamily,
    broker: int | None = None,
    topic: str | None = None,
    mountpoint: str = DEFAULT_LOG_DIR_MOUNTPOINT,
) -> str:
    """The query for one family, per broker (and per topic when one is given).

    ``topic`` is a validated Kafka topic name (letters, digits, ``.``, ``_``, ``-``) and
    ``mountpoint`` a validated path, so neither can break out of the label matcher."""
    if topic is not None and family not in BY_TOPIC:
        raise ValueError(f"{family} has no per-topic series")
    by = "broker, topic" if topic is not None else "broker"
    if family in {MetricFamily.BYTES_IN, MetricFamily.BYTES_OUT}:
        name = f"kafka_server_brokertopicmetrics_{family.value.replace('_', '')}_total"
        scope = f'topic="{topic}"' if topic is not None else 'topic=""'
        return f"sum by ({by}) (rate({name}{_selector(broker, scope)}[{RATE_WINDOW}]))"
    if family in {MetricFamily.PRODUCE_LATENCY, MetricFamily.FETCH_LATENCY}:
        request = "Produce" if family is MetricFamily.PRODUCE_LATENCY else "FetchConsumer"
        matcher = _selector(broker, f'request="{request}",quantile="0.99"')
        return f"max by (broker) (kafka_network_requestmetrics_totaltimems{matcher})"
    if family is MetricFamily.REQUEST_HANDLER_IDLE:
        return (
            "avg by (broker) (kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent"
            f"{_selector(broker)})"
        )
    if family is MetricFamily.UNDER_REPLICATED:
        return (
            "sum by (broker) (kafka_server_replicamanager_underreplicatedpartitions"
            f"{_selector(broker)})"
        )
    if family is MetricFamily.LOG_DIR_USAGE:
        scope = f'topic="{topic}"' if topic is not None else ""
        return f"sum by ({by}) (kafka_log_log_size{_selector(broker, scope)})"
    if family is MetricFamily.LOG_DIR_DISK_USED:
        matcher = _selector(broker, f'mountpoint="{mountpoint}"')
        return (
            f"max by (broker, mountpoint) (1 - node_filesystem_avail_bytes{matcher} "
            f"/ node_filesystem_size_bytes{matcher})"
        )
    # Per quota entity, averaged over the quota window: not the request histogram's mean,
    # which counts every throttle since the broker started. Kept per client (its user and
    # client id, as its quotas tag it, under whichever label names the exporter's rules
    # give them) and resource: who is throttled is the question.
    return f"max without (instance, job) (kafka_server_quota_throttle_time{_selector(broker)})"


MAX_POINTS_PER_SERIES = 120
MIN_STEP_SECONDS = 5


class MetricRange(KubeModel):
    family: MetricFamily
    unit: str
    query: str = Field(description="The PromQL that was run")
    window: TimeWindow
    step_seconds: int
    series: list[MetricSeries] = Field(
        description="One per broker (and topic; and client, for throttle time)"
    )
    source: str
    withheld: int = Field(
        default=0, description="Series of clients outside your scope, left out (throttle time)"
    )


def step_for(minutes: int) -> int:
    return max(MIN_STEP_SECONDS, minutes * 60 // MAX_POINTS_PER_SERIES)


async def read_range(
    prometheus: PrometheusPort,
    family: MetricFamily,
    end: datetime,
    minutes: int,
    *,
    broker: int | None = None,
    topic: str | None = None,
    mountpoint: str = DEFAULT_LOG_DIR_MOUNTPOINT,
) -> MetricRange:
    query = promql(family, broker, topic, mountpoint)
    start = end - timedelta(minutes=minutes)
    step = step_for(minutes)
    series = await prometheus.query_range(query, start, end, step)
    return MetricRange(
        family=family,
        unit=UNITS[family],
        query=query,
        window=TimeWindow(start=start, end=end),
        step_seconds=step,
        series=series,
        source=f"prometheus {prometheus.url}: query_range"[:256],
    )


def metric_evidence(reading: MetricRange, value: str) -> Evidence:
    return Evidence(
        kind=EvidenceKind.METRIC,
        source=reading.source,
        query=reading.query[:2048],
        observed_value=value[:4096],
        time_window=reading.window,
        captured_at=reading.window.end,
    )


def summary(reading: MetricRange) -> str:
    """Each series' range and last value, in the family's unit; a gauge without samples
    (NaN, as a quota sensor between throttles) is no value."""
    parts = []
    for series in reading.series[:20]:
        values = [v for v in series.values if not math.isnan(v)]
        if not values:
            continue
        labels = ",".join(f"{k}={v}" for k, v in sorted(series.labels.items()))
        parts.append(
            f"{labels or 'all'}: min {min(values):.4g}, max {max(values):.4g}, "
            f"last {values[-1]:.4g} {reading.unit}"
        )
    return "; ".join(parts) or "no samples in the window"
