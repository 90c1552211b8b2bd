"""The few primitive broker calls the port is built from, one per Kafka API.

:class:`kcr.kafka.service.KafkaService` holds every rule (compare-then-apply, offset
resolution, lag, snapshots, verdicts) once, on top of a backend; the confluent-kafka
adapter and the in-memory fake implement only these primitives. So the contract suite,
run over both, tests the rules once and the two backends against each other.

A backend raises the typed errors of :mod:`kcr.kafka.errors` and nothing else.
"""

from dataclasses import dataclass, field
from typing import Protocol

from kcr.kafka.readmodel import (
    AclFilter,
    Broker,
    Capabilities,
    GroupDescription,
    GroupListing,
    GroupOffsets,
    PartitionOffsets,
    Reassignment,
    TopicConfigs,
    TopicInfo,
    TopicPartition,
)
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
