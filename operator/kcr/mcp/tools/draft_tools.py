"""The draft tools: one per change kind, plus a preview. None of them executes anything.

Arguments are the model's own fields and types, so the MCP schemas and the CRD schema
come from the same definitions; the caller, the evidence and the observed state are added
by the server.
"""

from typing import Annotated

from pydantic import Field

from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.alter_client_quotas import MAX_ENTITIES, AlterClientQuotas
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.client_quota_entity import ClientQuotaEntity
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.delete_topic import DeleteTopic
from kcr.kinds.elect_leaders import ElectionTopic, ElectLeaders
from kcr.kinds.increase_partitions import IncreasePartitions
from kcr.kinds.reassign_partitions import ReassignPartitions
from kcr.kinds.replica_model import BrokerId, ThrottleRate, TopicReplicas
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.kinds.restart_workload import RestartWorkload
from kcr.mcp.tools.drafting import (
    DraftReason,
    DraftResult,
    PreviewResult,
    RequestText,
    build_change,
    preview,
    submit_draft,
)
from kcr.mcp.tools.env import ToolEnv
from kcr.mcp.tools.replica_targets import move_targets
from kcr.model import AclBinding, Change, DeploymentRef, OffsetTarget, Rollout
from kcr.model.change import (
    MAX_BINDINGS_PER_CHANGE,
    MAX_CONFIG_KEYS,
    MAX_REPLICATION_FACTOR,
    MAX_TOPICS_PER_CHANGE,
    ConfigValues,
    PartitionCount,
)
from kcr.model.names import GroupId, TopicName

ReplicationFactor = Annotated[
    int, Field(ge=1, le=MAX_REPLICATION_FACTOR, description="Copies of each partition")
]
NewTotal = Annotated[
    int, Field(ge=2, le=10_000, description="The new total number of partitions (only grows)")
]
Topics = Annotated[list[TopicName], Field(min_length=1, max_length=MAX_TOPICS_PER_CHANGE)]
ConfigKeys = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[a-zA-Z0-9._-]+$")]],
    Field(max_length=MAX_CONFIG_KEYS, description="Keys whose topic override is removed"),
]
Bindings = Annotated[list[AclBinding], Field(max_length=MAX_BINDINGS_PER_CHANGE)]
QuotaEntities = Annotated[
    list[ClientQuotaEntity],
    Field(
        min_length=1,
        max_length=MAX_ENTITIES,
        description="Each entity (user, clientId or both; <default> for a default) with the "
        "quota keys to set, or null to remove; the first is the canary",
    ),
]
Pacing = Annotated[
    Rollout | None,
    Field(
        description="Canary size, batch size, bake seconds and failure policy; the health "
        "gates are the cluster's. Omitted: canary 1, batches of 10, 30 s bake, roll back."
    ),
]


async def preview_change(
    env: ToolEnv,
    *,
    change: Change,
    reason: DraftReason = "preview of a change",
    rollout: Pacing = None,
) -> PreviewResult:
    """Dry run: validation, risk, blast radius, staged plan and rollback, on the live state."""
    return await preview(env, change, reason, rollout)


async def draft_create_topic(
    env: ToolEnv,
    *,
    topic: TopicName,
    partitions: PartitionCount,
    replication_factor: ReplicationFactor,
    reason: DraftReason,
    configs: ConfigValues | None = None,
    allow_unknown_keys: bool = False,
    rollout: Pacing = None,
    request_text: RequestText = None,
) -> DraftResult:
    """Draft a KafkaChangeRequest that creates a topic."""
    change = build_change(
        "createTopic",
        lambda: CreateTopic(
            topic=topic,
            partitions=partitions,
            replication_factor=replication_factor,
            allow_unknown_keys=allow_unknown_keys,
            configs=configs or {},
        ),
    )
    return await submit_draft(env, change, reason, rollout, request_text=request_text)


async def draft_increase_partitions(
    env: ToolEnv,
    *,
    topic: TopicName,
    partitions: NewTotal,
    reason: DraftReason,
    rollout: Pacing = None,
    request_text: RequestText = None,
) -> DraftResult:
    """Draft a partition increase to a new total (irreversible: keys move to new partitions)."""
    change = build_change(
        "increasePartitions", lambda: IncreasePartitions(topic=topic, partitions=partitions)
    )
    return await submit_draft(env, change, reason, rollout, request_text=request_text)


async def draft_alter_topic_config(
    env: ToolEnv,
    *,
    topics: Topics,
    reason: DraftReason,
    set: ConfigValues | None = None,
    delete: ConfigKeys | None = None,
    allow_unknown_keys: bool = False,
    rollout: Pacing = None,
    request_text: RequestText = None,
) -> DraftResult:
    """Draft topic config changes (set or delete overrides); the first topic is the canary."""
    change = build_change(
        "alterTopicConfig",
        lambda: AlterTopicConfig(
            topics=topics,
            allow_unknown_keys=allow_unknown_keys,
            set=set or {},
            delete=delete or [],
        ),
    )
    return await submit_draft(env, change, reason, rollout, request_text=request_text)


async def draft_reset_consumer_group_offsets(
    env: ToolEnv,
    *,
    group: GroupId,
    topics: Topics,
    to: OffsetTarget,
    reason: DraftReason,
    scale_deployment: DeploymentRef | None = None,
    rollout: Pacing = None,
    request_text: RequestText = None,
) -> DraftResult:
    """Draft an offset reset (earliest, latest, timestamp, offsets or shiftBy); group must be
    empty when it runs, optionally by scaling a Deployment to zero and back."""
    change = build_change(
        "resetConsumerGroupOffsets",
        lambda: ResetConsumerGroupOffsets(
            group=group, topics=topics, to=to, scale_deployment=scale_deployment
        ),
    )
    return await submit_draft(env, change, reason, rollout, request_text=request_text)


async def draft_alter_acls(
    env: ToolEnv,
    *,
    reason: DraftReason,
    add: Bindings | None = None,
    remove: Bindings | None = None,
    rollout: Pacing = None,
    request_text: RequestText = None,
) -> DraftResult:
    """Draft ACL changes: bindings to add and to remove (grants run before revokes)."""
    change = build_change("alterAcls", lambda: AlterAcls(add=add or [], remove=remove or []))
    return await submit_draft(env, change, reason, rollout, request_text=request_text)


async def draft_delete_topic(
    env: ToolEnv,
    *,
    topic: TopicName,
    reason: DraftReason,
    rollout: Pacing = None,
    request_text: RequestText = None,
) -> DraftResult:
    """Draft a topic deletion (always CRITICAL: its data cannot be recovered)."""
    change = build_change("deleteTopic", lambda: DeleteTopic(topic=topic))
    return await submit_draft(env, change, reason, rollout, request_text=request_text)


async def draft_reassign_partitions(
    env: ToolEnv,
    *,
    reason: DraftReason,
    targets: Annotated[
        list[TopicReplicas] | None,
        Field(
            max_length=MAX_TOPICS_PER_CHANGE,
            description="Explicit targets: each topic's partitions and their brokers (the "
            "first leads). Or give drain_broker, or replication_factor with topics",
        ),
    ] = None,
    drain_broker: Annotated[
        BrokerId | None,
        Field(
            description="Move every replica off this broker, each partition keeping its "
            "replication factor; the new replicas go to the least loaded brokers"
        ),
    ] = None,
    replication_factor: ReplicationFactor | None = None,
    topics: Annotated[
        list[TopicName] | None,
        Field(
            max_length=MAX_TOPICS_PER_CHANGE,
            description="The topics drain_broker or replication_factor apply to; a drain "
            "covers every topic in your scope when omitted",
        ),
    ] = None,
    throttle_bytes_per_second: ThrottleRate = 10 * 2**20,
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 10,
    batch_timeout_seconds: Annotated[int, Field(ge=60, le=7 * 86_400)] = 3600,
    rollout: Pacing = None,
    request_text: RequestText = None,
) -> DraftResult:
    """Draft a replica move (explicit targets, a broker drain, or a new replication factor):
    batches of partitions copy under a replication throttle, each waited for, and the review
    says how many bytes move and for how long."""
    chosen = await move_targets(
        env,
        targets=targets,
        drain_broker=drain_broker,
        replication_factor=replication_factor,
        topics=topics,
    )
    change = build_change(
        "reassignPartitions",
        lambda: ReassignPartitions(
            topics=chosen,
            throttle_bytes_per_second=throttle_bytes_per_second,
            batch_size=batch_size,
            batch_timeout_seconds=batch_timeout_seconds,
        ),
    )
    return await submit_draft(env, change, reason, rollout, request_text=request_text)


async def draft_elect_leaders(
    env: ToolEnv,
    *,
    topics: Annotated[
        list[ElectionTopic],
        Field(
            min_length=1,
            max_length=MAX_TOPICS_PER_CHANGE,
            description="Topics (and optionally partitions) whose leaders go back to their "
            "preferred replicas; partition_skew lists the skewed ones",
        ),
    ],
    reason: DraftReason,
    rollout: Pacing = None,
    request_text: RequestText = None,
) -> DraftResult:
    """Draft a preferred leader election: each partition's first replica leads again, ending
    leader skew; no records move, and a rollback leaves leadership where it is."""
    change = build_change("electLeaders", lambda: ElectLeaders(topics=topics))
    return await submit_draft(env, change, reason, rollout, request_text=request_text)


async def draft_alter_client_quotas(
    env: ToolEnv,
    *,
    entities: QuotaEntities,
    reason: DraftReason,
    rollout: Pacing = None,
    request_text: RequestText = None,
) -> DraftResult:
    """Draft client quota changes (producer_byte_rate, consumer_byte_rate,
    request_percentage) for users and client ids; read them first with describe_quotas.
    Lowering a rate throttles live clients; the rollback restores each old value."""
    change = build_change("alterClientQuotas", lambda: AlterClientQuotas(entities=entities))
    return await submit_draft(env, change, reason, rollout, request_text=request_text)


async def draft_restart_workload(
    env: ToolEnv,
    *,
    group: GroupId,
    deployment: DeploymentRef,
    reason: DraftReason,
    rejoin_timeout_seconds: Annotated[
        int,
        Field(ge=30, le=3600, description="How long the whole rollout may take to rejoin"),
    ] = 600,
    rollout: Pacing = None,
    request_text: RequestText = None,
) -> DraftResult:
    """Draft a rollout restart of the Deployment that consumes a group (labelled
    kcr.dev/consumer-group); it succeeds once every member has rejoined with a new member id
    and the group reads again. A restart cannot be undone."""
    change = build_change(
        "restartWorkload",
        lambda: RestartWorkload(
            group=group, deployment=deployment, rejoin_timeout_seconds=rejoin_timeout_seconds
        ),
    )
    return await submit_draft(env, change, reason, rollout, request_text=request_text)
