"""The few primitive broker calls the port is built from, one per Kafka API.

:class:`kcr.kafka.service.KafkaService` holds every rule (compare-then-apply, offset
resolution, lag, snapshots, verdicts) once, on top of a backend; the confluent-kafka
adapter and the in-memory fake implement only these primitives. So the contract suite,
run over both, tests the rules once and the two backends against each other.

A backend raises the typed errors of :mod:`kcr.kafka.errors` and nothing else.
"""

from dataclasses import dataclass, field
from typing import Protocol

from kcr.kafka.quota_model import ClientQuota, ClientQuotaFilter, QuotaAlteration
from kcr.kafka.readmodel import (
    AclFilter,
    Broker,
    Capabilities,
    ConfigEntry,
    GroupDescription,
    GroupListing,
    GroupOffsets,
    PartitionOffsets,
    Reassignment,
    TopicConfigs,
    TopicInfo,
    TopicPartition,
)
from kcr.kafka.replica_model import Election, ElectionResult, ReplicaLogSize
from kcr.kafka.settings import ClientSettings
from kcr.model import AclBinding, PartitionOffset


@dataclass(frozen=True)
class ClusterMetadata:
    """One Metadata response: who the brokers are and where every partition lives."""

    cluster_id: str | None
    controller_id: int | None
    brokers: list[Broker]
    topics: list[TopicInfo] = field(default_factory=list)


class Backend(Protocol):
    @property
    def settings(self) -> ClientSettings:
        """Deadlines; ``operation_timeout`` also bounds the wait for a write to show."""
        ...

    async def close(self) -> None: ...

    async def capabilities(self) -> Capabilities: ...

    async def metadata(self, topics: list[str] | None = None) -> ClusterMetadata:
        """All topics, or only those named (missing names are simply absent)."""
        ...

    async def topic_configs(self, topics: list[str]) -> list[TopicConfigs]: ...

    async def list_groups(self) -> list[GroupListing]: ...

    async def describe_groups(self, groups: list[str]) -> list[GroupDescription]: ...

    async def committed(
        self, groups: list[str], partitions: list[TopicPartition] | None = None
    ) -> list[GroupOffsets]:
        """All groups at once; with ``partitions``, one row per partition (null = none)."""
        ...

    async def log_offsets(self, partitions: list[TopicPartition]) -> list[PartitionOffsets]: ...

    async def offsets_for_timestamp(
        self, partitions: list[TopicPartition], timestamp_ms: int
    ) -> dict[TopicPartition, int | None]:
        """First offset whose record time is at or after the timestamp; null past the end."""
        ...

    async def describe_acls(self, acl_filter: AclFilter) -> list[AclBinding]: ...

    async def list_reassignments(self, topics: list[str] | None) -> list[Reassignment]:
        """In progress now, sorted by topic and partition; all topics when None."""
        ...

    async def create_topic(
        self, topic: str, partitions: int, replication_factor: int, configs: dict[str, str]
    ) -> None: ...

    async def create_partitions(self, topic: str, total: int) -> None: ...

    async def alter_topic_config(self, topic: str, set_: dict[str, str], delete: list[str]) -> None:
        """Incremental: only the named keys change."""
        ...

    async def commit_offsets(self, group: str, offsets: list[PartitionOffset]) -> None: ...

    async def create_acls(self, bindings: list[AclBinding]) -> None: ...

    async def delete_acls(self, bindings: list[AclBinding]) -> None: ...

    async def delete_topic(self, topic: str) -> None: ...

    # --- replicas ---------------------------------------------------------------------------

    async def log_dirs(
        self, partitions: dict[str, list[int]], brokers: list[int]
    ) -> list[ReplicaLogSize]:
        """The replicas of these partitions each broker holds (one DescribeLogDirs each)."""
        ...

    async def alter_reassignments(self, targets: dict[TopicPartition, list[int] | None]) -> None:
        """Start (a replica list) or cancel (None) moves; any refused partition raises, all
        of them named in one message."""
        ...

    async def elect_leaders(
        self, election: Election, partitions: list[TopicPartition] | None
    ) -> list[ElectionResult]:
        """One result per partition asked (None: only those where an election was needed)."""
        ...

    async def broker_config_entries(
        self, brokers: list[int], keys: list[str]
    ) -> dict[int, dict[str, ConfigEntry]]:
        """Only ``keys`` of each broker's configuration, so no secret is ever read."""
        ...

    async def alter_broker_config(
        self, broker: int, set_: dict[str, str], delete: list[str]
    ) -> None:
        """Incremental, on the broker's own dynamic configuration."""
        ...

    # --- client quotas --------------------------------------------------------------------------

    async def describe_client_quotas(
        self, quota_filter: ClientQuotaFilter
    ) -> list[ClientQuota]: ...

    async def alter_client_quotas(self, alterations: list[QuotaAlteration]) -> None:
        """A refused entity raises, naming it; Kafka applies the others."""
        ...
