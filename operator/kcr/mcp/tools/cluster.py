"""Read tools about the cluster and its topics: overview, topics, skew, broker health."""

import asyncio
from datetime import datetime
from typing import Annotated

from pydantic import Field

from kcr.kafka import (
    Broker,
    PartitionInfo,
    PartitionOffsets,
    ProbeVerdict,
    TopicInfo,
    TopicPartition,
)
from kcr.mcp.cluster import OwnerInfo
from kcr.mcp.evidence import topic_subject
from kcr.mcp.masking import mask_value
from kcr.mcp.paging import DEFAULT_LIMIT, Cursor, Limit, page
from kcr.mcp.tools.env import ToolEnv
from kcr.model import ConfigSource, Evidence, EvidenceKind, TimeWindow
from kcr.model.base import KubeModel
from kcr.model.names import TopicName

MAX_PARTITIONS_SHOWN = 500

TopicPrefix = Annotated[
    str,
    Field(
        max_length=249,
        pattern=r"^[a-zA-Z0-9._-]*$",
        description="Only topics whose name starts with this; empty for all in your scope",
    ),
]


class ClusterOverviewResult(KubeModel):
    cluster: str = Field(description="The KafkaCluster this server speaks for")
    cluster_id: str | None = None
    controller_id: int | None = None
    brokers: list[Broker]
    topics: int = Field(description="Topics in the cluster (a count; names only in scope)")
    partitions: int
    offline_partitions: int
    under_replicated_partitions: int
    topics_in_scope: int
    scope: str = Field(description="The topic prefixes you may see")
    observed_at: datetime
    source: str


async def cluster_overview(env: ToolEnv) -> ClusterOverviewResult:
    """Brokers, controller and partition health of the cluster, with your topic scope."""
    kafka = env.services.kafka
    overview, topics = await asyncio.gather(kafka.cluster_overview(), kafka.list_topics())
    visible = [t for t in topics if env.scope.allows_topic(t.name)]
    return ClusterOverviewResult(
        cluster=env.services.cluster.name,
        cluster_id=overview.cluster_id,
        controller_id=overview.controller_id,
        brokers=overview.brokers,
        topics=overview.topics,
        partitions=overview.partitions,
        offline_partitions=overview.offline_partitions,
        under_replicated_partitions=overview.under_replicated_partitions,
        topics_in_scope=len(visible),
        scope=env.scope.describe_topics(),
        observed_at=overview.observed_at,
        source=f"kafka/{env.services.cluster.name}: Metadata",
    )


class TopicSummary(KubeModel):
    name: str
    partitions: int
    replication_factor: int
    offline_partitions: int
    under_replicated_partitions: int


class TopicPage(KubeModel):
    topics: list[TopicSummary]
    total: int = Field(description="Topics matching the filter in your scope")
    next_cursor: str | None = Field(default=None, description="Pass as cursor for the next page")
    observed_at: datetime
    source: str


async def list_topics(
    env: ToolEnv,
    prefix: TopicPrefix = "",
    include_internal: bool = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor | None = None,
) -> TopicPage:
    """Topics in your scope, filtered by name prefix, one page at a time."""
    topics = await env.services.kafka.list_topics(include_internal=include_internal)
    matching = [t for t in topics if t.name.startswith(prefix) and env.scope.allows_topic(t.name)]
    chosen, following = page(matching, cursor, limit, f"list_topics|{prefix}|{include_internal}")
    return TopicPage(
        topics=[
            TopicSummary(
                name=t.name,
                partitions=t.partition_count,
                replication_factor=t.replication_factor,
                offline_partitions=t.offline_partitions,
                under_replicated_partitions=t.under_replicated_partitions,
            )
            for t in chosen
        ],
        total=len(matching),
        next_cursor=following,
        observed_at=env.now(),
        source=f"kafka/{env.services.cluster.name}: Metadata",
    )


class PartitionDetail(KubeModel):
    partition: int
    leader: int | None
    replicas: list[int]
    isr: list[int]
    offline: bool
    under_replicated: bool
    earliest_offset: int | None = None
    latest_offset: int | None = None
    records: int | None = Field(default=None, description="Latest minus earliest offset")


class ConfigValue(KubeModel):
    value: str | None
    source: ConfigSource
    masked: bool = False
    read_only: bool = False


class TopicDetail(KubeModel):
    name: str
    internal: bool
    partition_count: int
    replication_factor: int
    partitions: list[PartitionDetail]
    partitions_truncated: bool = False
    configs: dict[str, ConfigValue]
    owner: OwnerInfo | None = None
    observed_at: datetime
    source: str


async def describe_topic(env: ToolEnv, topic: TopicName) -> TopicDetail:
    """Partitions (leaders, replicas, ISR, offsets) and every config with its source, masked."""
    env.require_topic(topic)
    kafka = env.services.kafka
    (info,), (configs,) = await asyncio.gather(
        kafka.describe_topics([topic]), kafka.topic_configs([topic])
    )
    shown = info.partitions[:MAX_PARTITIONS_SHOWN]
    offsets = await _offsets(env, info, shown)
    now = env.now()
    details = [
        PartitionDetail(
            partition=p.partition,
            leader=p.leader,
            replicas=p.replicas,
            isr=p.isr,
            offline=p.offline,
            under_replicated=p.under_replicated,
            earliest_offset=offsets[p.partition].earliest if p.partition in offsets else None,
            latest_offset=offsets[p.partition].latest if p.partition in offsets else None,
            records=(
                offsets[p.partition].latest - offsets[p.partition].earliest
                if p.partition in offsets
                else None
            ),
        )
        for p in shown
    ]
    values = {
        key: ConfigValue(
            value=mask_value(key, entry.value, sensitive=entry.sensitive),
            source=entry.source,
            masked=entry.value is not None
            and mask_value(key, entry.value, sensitive=entry.sensitive) != entry.value,
            read_only=entry.read_only,
        )
        for key, entry in sorted(configs.configs.items())
    }
    cluster = env.services.cluster
    result = TopicDetail(
        name=info.name,
        internal=info.internal,
        partition_count=info.partition_count,
        replication_factor=info.replication_factor,
        partitions=details,
        partitions_truncated=len(info.partitions) > len(shown),
        configs=values,
        owner=OwnerInfo.of(cluster.owner_of_topic(topic)),
        observed_at=now,
        source=f"kafka/{cluster.name}: Metadata + DescribeConfigs + ListOffsets",
    )
    env.remember({topic_subject(topic)}, [_topic_evidence(env, result)])
    return result


async def _offsets(
    env: ToolEnv, info: TopicInfo, shown: list[PartitionInfo]
) -> dict[int, PartitionOffsets]:
    online = [
        TopicPartition(topic=info.name, partition=p.partition) for p in shown if not p.offline
    ]
    found = await env.services.kafka.log_offsets(online)
    return {o.partition: o for o in found}


def _topic_evidence(env: ToolEnv, topic: TopicDetail) -> Evidence:
    retention = topic.configs.get("retention.ms")
    value = (
        f"topic {topic.name}: {topic.partition_count} partitions, replication factor "
        f"{topic.replication_factor}, "
        f"{sum(p.offline for p in topic.partitions)} offline, "
        f"{sum(p.under_replicated for p in topic.partitions)} under-replicated"
    )
    if retention is not None:
        value += f"; retention.ms={retention.value} ({retention.source})"
    return Evidence(
        kind=EvidenceKind.METADATA,
        source=topic.source[:256],
        query=f"describe_topic {topic.name}",
        observed_value=value,
        time_window=TimeWindow.at(topic.observed_at),
        captured_at=topic.observed_at,
    )


class BrokerLoad(KubeModel):
    broker: int
    leaders: int
    replicas: int
    records: int = Field(description="Records in the partitions this broker leads")
    records_share: float


class SkewResult(KubeModel):
    brokers: list[BrokerLoad]
    leader_skew: float = Field(description="Most leaders on one broker ÷ the mean; 1.0 is even")
    records_skew: float = Field(description="Most records led by one broker ÷ the mean")
    topics_considered: int
    not_preferred: list[str] = Field(
        default_factory=list,
        description="Partitions led by another broker than their preferred (first) replica, "
        "the skew a preferred leader election ends (at most 50 named)",
    )
    not_preferred_count: int = 0
    note: str
    observed_at: datetime
    source: str


async def partition_skew(env: ToolEnv, topic: TopicName | None = None) -> SkewResult:
    """Leaders, replicas and data (records) per broker, for one topic or all in your scope."""
    kafka = env.services.kafka
    if topic is not None:
        env.require_topic(topic)
        topics = await kafka.describe_topics([topic])
    else:
        topics = [t for t in await kafka.list_topics() if env.scope.allows_topic(t.name)]
    overview = await kafka.cluster_overview()
    partitions = [
        TopicPartition(topic=t.name, partition=p.partition)
        for t in topics
        for p in t.partitions
        if not p.offline
    ]
    offsets = {(o.topic, o.partition): o for o in await kafka.log_offsets(partitions)}
    loads = {b.id: [0, 0, 0] for b in overview.brokers}
    for t in topics:
        for p in t.partitions:
            for replica in p.replicas:
                loads.setdefault(replica, [0, 0, 0])[1] += 1
            if p.leader is not None:
                row = loads.setdefault(p.leader, [0, 0, 0])
                row[0] += 1
                found = offsets.get((t.name, p.partition))
                row[2] += found.latest - found.earliest if found else 0
    total_records = sum(r[2] for r in loads.values())
    skewed = [
        f"{t.name}/{p.partition}"
        for t in topics
        for p in t.partitions
        if p.replicas and p.leader is not None and p.leader != p.replicas[0]
    ]
    result = SkewResult(
        brokers=[
            BrokerLoad(
                broker=b,
                leaders=r[0],
                replicas=r[1],
                records=r[2],
                records_share=round(r[2] / total_records, 4) if total_records else 0.0,
            )
            for b, r in sorted(loads.items())
        ],
        leader_skew=_skew([r[0] for r in loads.values()]),
        records_skew=_skew([r[2] for r in loads.values()]),
        topics_considered=len(topics),
        not_preferred=skewed[:MAX_NOT_PREFERRED],
        not_preferred_count=len(skewed),
        note="data is measured in records (offset ranges); log directory sizes are not read",
        observed_at=env.now(),
        source=f"kafka/{env.services.cluster.name}: Metadata + ListOffsets",
    )
    env.remember({topic_subject(t.name) for t in topics}, [skew_evidence(result)])
    return result


def skew_evidence(result: SkewResult) -> Evidence:
    """What a preferred leader election or a replica move drafted next rests on."""
    leaders = ", ".join(f"broker {b.broker}: {b.leaders}" for b in result.brokers)
    named = ", ".join(result.not_preferred)
    value = (
        f"leaders per broker: {leaders} (skew {result.leader_skew}); "
        f"{result.not_preferred_count} partition(s) not led by their preferred replica"
        + (f": {named}" if named else "")
    )
    return Evidence(
        kind=EvidenceKind.METADATA,
        source=result.source[:256],
        query=f"partition_skew over {result.topics_considered} topic(s)",
        observed_value=value[:4096],
        time_window=TimeWindow.at(result.observed_at),
        captured_at=result.observed_at,
    )


MAX_NOT_PREFERRED = 50


def _skew(values: list[int]) -> float:
    if not values or not sum(values):
        return 1.0
    return round(max(values) / (sum(values) / len(values)), 3)


class BrokerHealthResult(KubeModel):
    brokers: list[Broker]
    controller_id: int | None
    offline_partitions: ProbeVerdict
    under_replicated_partitions: ProbeVerdict
    min_insync_replicas: ProbeVerdict | None = Field(
        default=None, description="ISR against min.insync.replicas of the topics in scope"
    )
    cluster_offline_partitions: int = Field(description="Cluster-wide count (no names)")
    cluster_under_replicated_partitions: int = Field(description="Cluster-wide count (no names)")
    observed_at: datetime


async def broker_health(env: ToolEnv) -> BrokerHealthResult:
    """The same health probes as the operator's gates: offline, under-replicated, min ISR."""
    kafka = env.services.kafka
    overview, topics = await asyncio.gather(kafka.cluster_overview(), kafka.list_topics())
    names = (
        None
        if env.scope.unrestricted
        else [t.name for t in topics if env.scope.allows_topic(t.name)]
    )
    offline, urp = await asyncio.gather(
        kafka.probe_offline_partitions(names), kafka.probe_under_replicated(names)
    )
    in_scope = names if names is not None else [t.name for t in topics]
    min_isr = await kafka.probe_min_insync(in_scope) if in_scope else None
    return BrokerHealthResult(
        brokers=overview.brokers,
        controller_id=overview.controller_id,
        offline_partitions=offline,
        under_replicated_partitions=urp,
        min_insync_replicas=min_isr,
        cluster_offline_partitions=overview.offline_partitions,
        cluster_under_replicated_partitions=overview.under_replicated_partitions,
        observed_at=overview.observed_at,
    )
