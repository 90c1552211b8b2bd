"""``broker_metrics``: one broker metric family over a bounded time range, from Prometheus."""

from typing import Annotated

from pydantic import Field

from kcr.mcp.broker_metrics import (
    BY_TOPIC,
    CLIENT_LABELS,
    MetricFamily,
    MetricRange,
    metric_evidence,
    read_range,
    summary,
)
from kcr.mcp.evidence import topic_subject
from kcr.mcp.gate.calls import ToolFailedError, ToolInvalidError
from kcr.mcp.gate.identity import Scope
from kcr.mcp.prometheus import PrometheusError
from kcr.mcp.tools.env import ToolEnv
from kcr.mcp.tools.quotas import named_in_scope
from kcr.model.names import TopicName

BrokerId = Annotated[int, Field(ge=0, le=2_147_483_647, description="A broker's node id")]
Minutes = Annotated[
    int, Field(ge=1, le=1440, description="How far back from now, in minutes (at most a day)")
]


async def broker_metrics(
    env: ToolEnv,
    family: MetricFamily,
    broker: BrokerId | None = None,
    topic: TopicName | None = None,
    minutes: Minutes = 30,
) -> MetricRange:
    """A broker metric family (bytes in/out, produce/fetch p99 latency, request handler idle
    ratio, under-replicated partitions, log dir usage, throttle time, the log dir filesystem's
    used fraction) per broker, for one
    broker or topic, over the last ``minutes``, from the cluster's Prometheus."""
    prometheus = env.services.prometheus
    if prometheus is None:
        raise ToolInvalidError(
            "no Prometheus is configured for this server: set the KafkaCluster's "
            "prometheusUrl or start kcr mcp with --prometheus-url"
        )
    if topic is not None:
        env.require_topic(topic)
        if family not in BY_TOPIC:
            names = ", ".join(sorted(f.value for f in BY_TOPIC))
            raise ToolInvalidError(f"{family} is per broker only; per topic: {names}")
    try:
        reading = await read_range(
            prometheus,
            family,
            env.now(),
            minutes,
            broker=broker,
            topic=topic,
            mountpoint=env.services.thresholds.log_dir_mountpoint,
        )
    except PrometheusError as error:
        raise ToolFailedError(str(error)) from None
    reading = scoped(reading, env.scope)
    if topic is not None:
        env.remember({topic_subject(topic)}, [metric_evidence(reading, summary(reading))])
    return reading


def scoped(reading: MetricRange, scope: Scope) -> MetricRange:
    """Without the series of clients named outside ``scope`` (users and client ids, as
    describe_quotas shows them): a tenant learns another tenant's clients from neither."""
    if scope.unrestricted:
        return reading
    kept = [
        s
        for s in reading.series
        if all(named_in_scope(scope, s.labels[k]) for k in CLIENT_LABELS if s.labels.get(k))
    ]
    withheld = len(reading.series) - len(kept)
    return reading.model_copy(update={"series": kept, "withheld": reading.withheld + withheld})
