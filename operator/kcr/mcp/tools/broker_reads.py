"""What ``explain_current_state`` reads about the brokers: metrics from Prometheus, the
replicas' log sizes, and the client quotas when someone is throttled.

Each is one fact among several: what cannot be read leaves a note, not a failed diagnosis.
"""

import asyncio

from kcr.kafka import KafkaPortError
from kcr.mcp.broker_metrics import MetricFamily, MetricRange, read_range
from kcr.mcp.diagnosis import LogSizes, QuotaReading
from kcr.mcp.diagnosis.quotas import throttled_now
from kcr.mcp.prometheus import PrometheusError
from kcr.mcp.tools.env import ToolEnv
from kcr.mcp.tools.metrics import scoped
from kcr.mcp.tools.quotas import visible_quota

MAX_TOPICS = 10
BROKER_FAMILIES = (
    MetricFamily.PRODUCE_LATENCY,
    MetricFamily.FETCH_LATENCY,
    MetricFamily.THROTTLE_TIME,
    MetricFamily.LOG_DIR_DISK_USED,
)


async def read_metrics(
    env: ToolEnv, topics: list[str], notes: list[str]
) -> dict[MetricFamily, MetricRange]:
    """Bytes in for the topics, and per-broker latency, throttle time (of the clients in
    scope) and log dir disk use, over the window."""
    prometheus = env.services.prometheus
    if prometheus is None:
        notes.append(
            "broker metrics were not checked: no Prometheus is configured (prometheusUrl or "
            "--prometheus-url)"
        )
        return {}
    thresholds = env.services.thresholds
    minutes = thresholds.metrics_window_minutes
    end = env.now()
    try:
        per_broker = await asyncio.gather(
            *(
                read_range(prometheus, f, end, minutes, mountpoint=thresholds.log_dir_mountpoint)
                for f in BROKER_FAMILIES
            )
        )
        per_topic = await asyncio.gather(
            *(
                read_range(prometheus, MetricFamily.BYTES_IN, end, minutes, topic=t)
                for t in topics[:MAX_TOPICS]
            )
        )
    except PrometheusError as error:
        notes.append(f"broker metrics could not be read: {error}")
        return {}
    found = {reading.family: scoped(reading, env.scope) for reading in per_broker}
    if per_topic:
        series = [s for reading in per_topic for s in reading.series]
        found[MetricFamily.BYTES_IN] = per_topic[0].model_copy(update={"series": series})
    return found


async def read_log_sizes(env: ToolEnv, topics: list[str], notes: list[str]) -> LogSizes | None:
    """How the topics' bytes spread over their partitions (a hot key shows there)."""
    if not topics:
        return None
    kafka = env.services.kafka
    capabilities = await kafka.capabilities()
    if not capabilities.describe_log_dirs:
        why = capabilities.reason("describeLogDirs") or "the broker does not serve them"
        notes.append(f"partition sizes were not checked: {why}")
        return None
    try:
        replicas = await kafka.log_dir_sizes(topics[:MAX_TOPICS])
    except KafkaPortError as error:
        notes.append(f"partition sizes could not be read: {error.message}")
        return None
    return LogSizes(
        replicas=tuple(replicas),
        observed_at=env.now(),
        source=f"kafka/{env.services.cluster.name}: DescribeLogDirs",
    )


async def read_quotas(
    env: ToolEnv, metrics: dict[MetricFamily, MetricRange], notes: list[str]
) -> QuotaReading | None:
    """The quotas the caller may see, read only when the brokers throttle a client."""
    throttle = metrics.get(MetricFamily.THROTTLE_TIME)
    if throttle is None or not throttled_now(throttle):
        return None
    kafka = env.services.kafka
    capabilities = await kafka.capabilities()
    if not capabilities.describe_client_quotas:
        why = capabilities.reason("describeClientQuotas") or "the broker does not serve them"
        notes.append(f"client quotas were not checked: {why}")
        return None
    try:
        quotas = await kafka.describe_client_quotas()
    except KafkaPortError as error:
        notes.append(f"client quotas could not be read: {error.message}")
        return None
    return QuotaReading(
        quotas=tuple(q for q in quotas if visible_quota(q, env.scope)),
        observed_at=env.now(),
        source=f"kafka/{env.services.cluster.name}: DescribeClientQuotas",
    )
