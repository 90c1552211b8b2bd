"""The port implemented once over any backend: reads, lag, snapshot reads, writes, probes."""

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from kcr.kafka import moves, probes, quotas, snapshot, throttles, topics, writes
from kcr.kafka.backend import Backend
from kcr.kafka.errors import InvalidRequestError, NotFoundError
from kcr.kafka.lag import build_lag_report, partitions_to_read
from kcr.kafka.offsets import OffsetReset, read_and_resolve
from kcr.kafka.port import DEFAULT_GROUP_STATES, KafkaPort
from kcr.kafka.quota_model import ClientQuota, ClientQuotaFilter, QuotaAlteration
from kcr.kafka.readmodel import (
    AclFilter,
    Capabilities,
    ClusterOverview,
    GroupDescription,
    GroupListing,
    GroupOffsets,
    HotPartitionRule,
    LagReport,
    PartitionOffsets,
    ReassignmentReport,
    TopicConfigs,
    TopicInfo,
    TopicPartition,
)
from kcr.kafka.replica_model import (
    Election,
    ElectionResult,
    ReplicaLogSize,
    ReplicationThrottles,
    TopicThrottle,
)
from kcr.kafka.results import ProbeVerdict, WriteResult
from kcr.model import (
    AclBinding,
    ConsumerPositions,
    GroupState,
    ObservedGroup,
    ObservedState,
    ObservedTopic,
    PartitionOffset,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _names(kind: str, names: list[str]) -> list[str]:
    """A bare string would be read as a list of one-letter names; refuse it loudly.

    An empty name names nothing (Kafka refuses it as a topic and as a group id).
    """
    if isinstance(names, str):
        raise InvalidRequestError(f"{kind} must be a list of names, not the string {names!r}")
    if any(not name for name in names):
        raise InvalidRequestError(f"{kind} must not contain an empty name")
    return list(dict.fromkeys(names))


class KafkaService:
    """Implements :class:`kcr.kafka.port.KafkaPort`; see there for each method's contract."""

    def __init__(self, backend: Backend, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._backend = backend
        self._clock = clock

    async def close(self) -> None:
        await self._backend.close()

    async def capabilities(self) -> Capabilities:
        return await self._backend.capabilities()

    # --- metadata -------------------------------------------------------------------------

    async def cluster_overview(self) -> ClusterOverview:
        metadata = await self._backend.metadata()
        partitions = [p for t in metadata.topics for p in t.partitions]
        return ClusterOverview(
            cluster_id=metadata.cluster_id,
            controller_id=metadata.controller_id,
            brokers=sorted(metadata.brokers, key=lambda b: b.id),
            topics=len(metadata.topics),
            partitions=len(partitions),
            offline_partitions=sum(p.offline for p in partitions),
            under_replicated_partitions=sum(p.under_replicated for p in partitions),
            observed_at=self._clock(),
        )

    async def list_topics(self, *, include_internal: bool = False) -> list[TopicInfo]:
        metadata = await self._backend.metadata()
        topics = [t for t in metadata.topics if include_internal or not t.internal]
        return sorted(topics, key=lambda t: t.name)

    async def describe_topics(self, topics: list[str]) -> list[TopicInfo]:
        names = _names("topics", topics)
        if not names:
            return []
        found = {t.name: t for t in (await self._backend.metadata(names)).topics}
        for name in names:
            if name not in found:
                raise NotFoundError(f"topic {name} does not exist", resource="topic", name=name)
        return [found[name] for name in names]

    async def topic_configs(self, topics: list[str]) -> list[TopicConfigs]:
        names = [t.name for t in await self.describe_topics(topics)]
        by_topic = {c.topic: c for c in await self._backend.topic_configs(names)}
        return [by_topic.get(name, TopicConfigs(topic=name)) for name in names]

    # --- groups and offsets -------------------------------------------------------------------

    async def list_consumer_groups(self) -> list[GroupListing]:
        return sorted(await self._backend.list_groups(), key=lambda g: g.group)

    async def describe_consumer_groups(self, groups: list[str]) -> list[GroupDescription]:
        names = _names("groups", groups)
        return await self._backend.describe_groups(names) if names else []

    async def committed_offsets(
        self, groups: list[str], *, topics: list[str] | None = None
    ) -> list[GroupOffsets]:
        names = _names("groups", groups)
        if not names:
            return []
        if topics is None:
            return await self._backend.committed(names)
        partitions = [
            TopicPartition(topic=t.name, partition=p.partition)
            for t in await self.describe_topics(topics)
            for p in t.partitions
        ]
        return await self._backend.committed(names, partitions)

    async def log_offsets(self, partitions: list[TopicPartition]) -> list[PartitionOffsets]:
        return await self._backend.log_offsets(partitions) if partitions else []

    async def lag_report(
        self,
        groups: list[str] | None = None,
        *,
        topics: list[str] | None = None,
        rule: HotPartitionRule | None = None,
        describe_groups: bool = True,
    ) -> LagReport:
        if groups is None:
            names = [g.group for g in await self._backend.list_groups()]
        else:
            names = _names("groups", groups)
        committed, descriptions = await self._committed_and_described(names, describe_groups)
        if topics is not None:
            wanted = set(_names("topics", topics))
            committed = [
                g.model_copy(update={"offsets": [o for o in g.offsets if o.topic in wanted]})
                for g in committed
            ]
        partitions = partitions_to_read(committed)
        log = await self._backend.log_offsets(partitions) if partitions else []
        return build_lag_report(
            self._clock(),
            committed,
            {(o.topic, o.partition): o for o in log},
            descriptions,
            rule or HotPartitionRule(),
        )

    async def _committed_and_described(
        self, names: list[str], describe: bool
    ) -> tuple[list[GroupOffsets], dict[str, GroupDescription] | None]:
        if not names:
            return [], {} if describe else None
        if not describe:
            return await self._backend.committed(names), None
        committed, described = await asyncio.gather(
            self._backend.committed(names), self._backend.describe_groups(names)
        )
        return committed, {d.group: d for d in described}

    async def resolve_offsets(
        self, reset: OffsetReset, *, snapshot: ObservedState | None = None
    ) -> list[PartitionOffset]:
        return await read_and_resolve(self._backend, reset, snapshot)

    async def reassignments(self, topics: list[str] | None = None) -> ReassignmentReport:
        names = None if topics is None else _names("topics", topics)
        found = await self._backend.list_reassignments(names)
        # A move adds or removes replicas; a partition listed with neither is not moving
        # (tansu lists every partition so), and would only send people on a false trail.
        moving = await moves.with_bytes_left(
            self._backend, [r for r in found if r.adding or r.removing]
        )
        left = [m.bytes_left for m in moving]
        return ReassignmentReport(
            reassignments=moving,
            bytes_left=None if None in left else sum(b for b in left if b is not None),
            observed_at=self._clock(),
        )

    async def describe_acls(self, acl_filter: AclFilter) -> list[AclBinding]:
        bindings = await self._backend.describe_acls(acl_filter)
        return sorted(bindings, key=lambda b: b.key())

    # --- snapshot reads ---------------------------------------------------------------------

    async def find_topic(self, name: str) -> TopicInfo | None:
        return await topics.find_topic(self._backend, name)

    async def broker_count(self) -> int:
        return len((await self._backend.metadata([])).brokers)

    async def observe_topic(
        self,
        name: str,
        keys: Sequence[str],
        *,
        every_override: bool = False,
        count_records: bool = False,
    ) -> ObservedTopic:
        return await snapshot.observe_topic(
            self._backend, name, list(keys), every_override, count_records=count_records
        )

    async def colliding_topics(self, name: str) -> list[ObservedTopic]:
        return await snapshot.colliding_topics(self._backend, name)

    async def observe_group(self, group: str, topics: list[str]) -> ObservedGroup:
        return await snapshot.observe_group(self._backend, group, topics)

    async def consumers_of(self, topics: list[str]) -> list[str]:
        return await snapshot.consumers_of(self._backend, topics)

    async def existing_acls(self, bindings: list[AclBinding]) -> list[AclBinding]:
        return await writes.existing_bindings(self._backend, bindings)

    # --- writes ---------------------------------------------------------------------------------

    async def add_topic(
        self, name: str, partitions: int, replication_factor: int, configs: dict[str, str]
    ) -> None:
        await writes.add_topic(self._backend, name, partitions, replication_factor, configs)

    async def add_partitions(self, topic: str, total: int) -> None:
        await writes.add_partitions(self._backend, topic, total)

    async def set_topic_config(self, topic: str, values: dict[str, str], delete: list[str]) -> None:
        await self._backend.alter_topic_config(topic, values, delete)

    async def commit_offsets(self, group: str, offsets: list[PartitionOffset]) -> None:
        await self._backend.commit_offsets(group, offsets)

    async def change_acls(self, add: list[AclBinding], remove: list[AclBinding]) -> None:
        await writes.change_acls(self._backend, add, remove)

    async def remove_topic(self, name: str) -> bool:
        return await writes.remove_topic(self._backend, name)

    # --- replicas: moves, elections, throttles ----------------------------------------------------

    async def log_dir_sizes(self, topics: list[str]) -> list[ReplicaLogSize]:
        return await moves.log_dir_sizes(self._backend, _names("topics", topics))

    async def alter_reassignments(
        self, targets: dict[TopicPartition, list[int] | None]
    ) -> WriteResult:
        return await moves.alter_reassignments(self._backend, targets)

    async def elect_leaders(
        self,
        partitions: list[TopicPartition] | None = None,
        *,
        election: Election = Election.PREFERRED,
    ) -> list[ElectionResult]:
        return await moves.elect_leaders(self._backend, partitions, election)

    async def replication_throttles(
        self, topics: list[str], *, brokers: list[int] | None = None
    ) -> ReplicationThrottles:
        names = _names("topics", topics)
        return await throttles.read_throttles(self._backend, names, brokers, self._clock())

    async def set_replication_throttle(
        self, rate: int, *, brokers: list[int], topics: list[TopicThrottle]
    ) -> WriteResult:
        return await throttles.set_throttle(self._backend, rate, brokers, topics, self._clock())

    async def remove_replication_throttle(
        self, *, brokers: list[int], topics: list[str]
    ) -> WriteResult:
        names = _names("topics", topics)
        return await throttles.remove_throttle(self._backend, brokers, names, self._clock())

    # --- client quotas ----------------------------------------------------------------------------

    async def describe_client_quotas(
        self, quota_filter: ClientQuotaFilter | None = None
    ) -> list[ClientQuota]:
        return await quotas.describe(self._backend, quota_filter or ClientQuotaFilter())

    async def alter_client_quotas(self, alterations: list[QuotaAlteration]) -> WriteResult:
        return await quotas.alter(self._backend, alterations)

    # --- health probes --------------------------------------------------------------------------

    async def _topics_in_scope(self, topics: list[str] | None) -> list[TopicInfo]:
        if topics is None:
            return (await self._backend.metadata()).topics
        return await self.describe_topics(topics)

    async def probe_offline_partitions(self, topics: list[str] | None = None) -> ProbeVerdict:
        scope = await self._topics_in_scope(topics)
        return probes.offline_verdict(scope, self._clock(), whole_cluster=topics is None)

    async def probe_under_replicated(
        self, topics: list[str] | None = None, *, baseline: int | None = None
    ) -> ProbeVerdict:
        scope = await self._topics_in_scope(topics)
        return probes.under_replicated_verdict(
            scope, baseline, self._clock(), whole_cluster=topics is None
        )

    async def probe_min_insync(self, topics: list[str]) -> ProbeVerdict:
        scope = await self.describe_topics(topics)
        configs = await self._backend.topic_configs([t.name for t in scope]) if scope else []
        return probes.min_insync_verdict(scope, {c.topic: c for c in configs}, self._clock())

    async def probe_group_state(
        self,
        groups: list[str],
        *,
        allowed: tuple[GroupState, ...] = DEFAULT_GROUP_STATES,
        max_members: int | None = None,
    ) -> ProbeVerdict:
        described = await self.describe_consumer_groups(groups)
        return probes.group_state_verdict(described, allowed, max_members, self._clock())

    async def consumer_positions(self, groups: list[str]) -> ConsumerPositions:
        names = _names("groups", groups)
        report = await self.lag_report(names, describe_groups=False)
        return probes.positions(report, names)


def _conforms(service: KafkaService) -> KafkaPort:
    """Checked by mypy: the service is a complete :class:`KafkaPort`."""
    return service
