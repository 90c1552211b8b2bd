"""The live Kafka state a change depends on: what a draft saw, what execution re-reads.

``spec.observed`` is what the assistant saw when it drafted; ``status.snapshot`` is what
the operator read just before the first write. Rollback is computed from the snapshot.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from kcr.model.acl import AclBinding
from kcr.model.base import KubeModel
from kcr.model.names import GroupId, KubeName, KubeNamespace, TopicName

MAX_OBSERVED_PARTITIONS = 10_000
MAX_OBSERVED_REPLICAS = 64
MAX_OBSERVED_MEMBERS = 1000
MAX_OBSERVED_QUOTAS = 100


class ConfigSource(StrEnum):
    """Where a topic's effective value comes from (Kafka's ConfigEntry.source)."""

    TOPIC_OVERRIDE = "TopicOverride"
    BROKER_OVERRIDE = "BrokerOverride"
    CLUSTER_DEFAULT = "ClusterDefault"
    STATIC_BROKER = "StaticBroker"
    DEFAULT = "Default"
    UNKNOWN = "Unknown"


class ObservedConfig(KubeModel):
    value: Annotated[str, Field(max_length=4096)] | None = Field(
        default=None, description="Effective value; null when sensitive"
    )
    source: ConfigSource = ConfigSource.UNKNOWN


class ObservedReplicaSet(KubeModel):
    """One partition's placement: where its replicas live, who leads, and what a move of it
    copies. Read by the changes that move replicas or leaders, which restore it on rollback."""

    partition: Annotated[int, Field(ge=0)]
    replicas: Annotated[list[int], Field(max_length=MAX_OBSERVED_REPLICAS)] = Field(
        default_factory=list, description="Broker ids; the first is the preferred leader"
    )
    leader: int | None = Field(default=None, description="Broker id; null when offline")
    isr: Annotated[list[int], Field(max_length=MAX_OBSERVED_REPLICAS)] = Field(
        default_factory=list, description="In-sync replicas"
    )
    bytes: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="Size of its largest replica's log (DescribeLogDirs): what each added "
        "replica copies; null when not read",
    )
    moving_to: Annotated[list[int], Field(max_length=MAX_OBSERVED_REPLICAS)] | None = Field(
        default=None,
        description="The target of a move in progress (ListPartitionReassignments); null "
        "when the partition is not moving",
    )


class ObservedTopic(KubeModel):
    name: TopicName
    exists: bool = True
    partitions: Annotated[int, Field(ge=0, le=MAX_OBSERVED_PARTITIONS)] = 0
    replication_factor: Annotated[int, Field(ge=0, le=32767)] = 0
    configs: Annotated[dict[str, ObservedConfig], Field(max_length=100)] = Field(
        default_factory=dict,
        description="Effective values of the keys the change touches (and retention)",
    )
    records: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="Records it holds: high watermark minus log start, summed over its "
        "partitions; null when not read",
    )
    assignment: (
        Annotated[list[ObservedReplicaSet], Field(max_length=MAX_OBSERVED_PARTITIONS)] | None
    ) = Field(
        default=None,
        description="Each partition's replicas, leader and size; read only by changes that "
        "move replicas or leaders",
    )


class GroupState(StrEnum):
    EMPTY = "Empty"
    STABLE = "Stable"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    DEAD = "Dead"
    UNKNOWN = "Unknown"


class ObservedPartition(KubeModel):
    """One partition as a consumer group sees it."""

    topic: TopicName
    partition: Annotated[int, Field(ge=0)]
    committed: Annotated[int, Field(ge=-1)] | None = Field(
        default=None, description="Committed offset; null when the group has none"
    )
    log_start: Annotated[int, Field(ge=0)] = 0
    log_end: Annotated[int, Field(ge=0)] = 0

    @property
    def lag(self) -> int | None:
        if self.committed is None or self.committed < 0:
            return None
        return max(0, self.log_end - self.committed)


class ObservedGroup(KubeModel):
    group: GroupId
    state: GroupState = GroupState.UNKNOWN
    members: Annotated[int, Field(ge=0)] = 0
    partitions: Annotated[list[ObservedPartition], Field(max_length=MAX_OBSERVED_PARTITIONS)] = (
        Field(default_factory=list)
    )
    member_ids: Annotated[
        list[Annotated[str, Field(max_length=512)]], Field(max_length=MAX_OBSERVED_MEMBERS)
    ] = Field(
        default_factory=list,
        description="Member ids, read where a change restarts the group's consumers: each "
        "must be gone once they have rejoined",
    )


class ObservedDeployment(KubeModel):
    namespace: KubeNamespace
    name: KubeName
    replicas: Annotated[int, Field(ge=0)]


class ObservedClientQuota(KubeModel):
    """One client quota entity's values; empty values: the entity had no quota set."""

    user: Annotated[str, Field(max_length=255)] | None = Field(
        default=None, description="The user, <default> for the default user; null: not part"
    )
    client_id: Annotated[str, Field(max_length=255)] | None = Field(
        default=None, description="The client id, <default> for the default; null: not part"
    )
    values: Annotated[dict[str, float], Field(max_length=10)] = Field(
        default_factory=dict, description="Quota key → value, as the brokers hold it"
    )


class ObservedState(KubeModel):
    captured_at: datetime
    brokers: Annotated[int, Field(ge=0)] = 0
    broker_ids: Annotated[list[int], Field(max_length=MAX_OBSERVED_PARTITIONS)] | None = Field(
        default=None,
        description="Ids of the live brokers; read only by changes that place replicas",
    )
    topics: Annotated[list[ObservedTopic], Field(max_length=200)] = Field(default_factory=list)
    consumer_groups: Annotated[list[ObservedGroup], Field(max_length=200)] = Field(
        default_factory=list
    )
    acls: Annotated[list[AclBinding], Field(max_length=1000)] = Field(
        default_factory=list, description="Existing bindings among those the change names"
    )
    deployments: Annotated[list[ObservedDeployment], Field(max_length=50)] = Field(
        default_factory=list, description="Workloads the change scales, with their replicas"
    )
    consumers_of_topics: Annotated[list[GroupId], Field(max_length=1000)] = Field(
        default_factory=list,
        description="Consumer groups with committed offsets on the affected topics",
    )
    client_quotas: Annotated[list[ObservedClientQuota], Field(max_length=MAX_OBSERVED_QUOTAS)] = (
        Field(default_factory=list, description="Client quota entities the change sets")
    )

    def topic(self, name: str) -> ObservedTopic | None:
        return next((t for t in self.topics if t.name == name), None)

    def group(self, group: str) -> ObservedGroup | None:
        return next((g for g in self.consumer_groups if g.group == group), None)

    def client_quota(self, user: str | None, client_id: str | None) -> ObservedClientQuota | None:
        return next(
            (q for q in self.client_quotas if (q.user, q.client_id) == (user, client_id)), None
        )

    def deployment(self, namespace: str, name: str) -> ObservedDeployment | None:
        return next(
            (d for d in self.deployments if (d.namespace, d.name) == (namespace, name)), None
        )
