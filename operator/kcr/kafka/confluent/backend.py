"""The port's primitives over librdkafka's AdminClient: futures awaited under a deadline."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from confluent_kafka import (
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    TopicCollection,
)
from confluent_kafka import TopicPartition as ConfluentPartition
from confluent_kafka.admin._config import AlterConfigOpType, ConfigResource
from confluent_kafka.admin._config import ConfigEntry as ConfluentEntry
from confluent_kafka.admin._listoffsets import OffsetSpec
from confluent_kafka.admin._resource import ResourceType
from confluent_kafka.cimpl import NewPartitions, NewTopic

from kcr.kafka.apiversions import capabilities_from, fetch_api_versions
from kcr.kafka.backend import ClusterMetadata
from kcr.kafka.confluent import convert
from kcr.kafka.confluent.moving import COORDINATOR_MOVING, LEADER_MOVING, while_moving
from kcr.kafka.confluent.replicas import ReplicaCalls
from kcr.kafka.errors import (
    ConflictError,
    GroupNotEmptyError,
    KafkaPortError,
    KafkaTimeoutError,
    NotFoundError,
    UnavailableError,
)
from kcr.kafka.probes import named
from kcr.kafka.readmodel import (
    AclFilter,
    Broker,
    Capabilities,
    GroupDescription,
    GroupListing,
    GroupOffsets,
    PartitionOffsets,
    TopicConfigs,
    TopicInfo,
    TopicPartition,
)
from kcr.kafka.service import utc_now
from kcr.kafka.writes import exact_filter
from kcr.model import AclBinding, GroupState, PartitionOffset

T = TypeVar("T")
_GROUP_ACTIVE = {"UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION", "REBALANCE_IN_PROGRESS"}


class ConfluentBackend(ReplicaCalls):
    """The port's primitives; the replica and quota calls are in :class:`ReplicaCalls`."""

    # --- metadata ---------------------------------------------------------------------------

    async def _list_metadata(self) -> Any:
        return await self._blocking(
            "list topics", lambda: self.admin.list_topics(timeout=self._settings.request_timeout)
        )

    async def _after_broker_loss(self, read: Callable[[], Awaitable[T]]) -> T:
        """A read, asked once more after a metadata refresh when its broker was lost.

        librdkafka sends some admin requests to the broker it last saw named as controller
        (in KRaft, any live broker) and forgets a lost one only at its next metadata refresh,
        minutes later. When the refresh itself fails the cluster is unreachable: that error
        stands, and the read is not asked again.
        """
        try:
            return await read()
        except (KafkaTimeoutError, UnavailableError) as lost:
            try:
                await self._list_metadata()
            except KafkaPortError:
                raise lost from None
            return await read()

    async def _describe_cluster(self) -> Any:
        with self._sending("describe the cluster"):
            request = self.admin.describe_cluster(**self._timeout_kwargs)
        return await self._await(request, "describe the cluster")

    async def metadata(self, topics: list[str] | None = None) -> ClusterMetadata:
        return await self._after_broker_loss(lambda: self._metadata(topics))

    async def _metadata(self, topics: list[str] | None) -> ClusterMetadata:
        if topics is None:
            # Listing first refreshes the broker librdkafka sends DescribeCluster to.
            listed = await self._list_metadata()
            described = await self._describe_cluster()
            found = [
                convert.topic_from_metadata(t)
                for t in listed.topics.values()
                if t.error is None or t.error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART
            ]
        elif topics:
            described, by_name = await asyncio.gather(
                self._describe_cluster(), self._describe_topics(topics)
            )
            found = [by_name[name] for name in topics if name in by_name]
        else:
            described, found = await self._describe_cluster(), []
        return ClusterMetadata(
            cluster_id=described.cluster_id,
            controller_id=convert.node_id(described.controller),
            brokers=[
                Broker(id=n.id, host=n.host, port=n.port, rack=n.rack or None)
                for n in described.nodes
            ],
            topics=found,
        )

    async def _describe_topics(self, topics: list[str]) -> dict[str, TopicInfo]:
        with self._sending("describe topics " + ", ".join(topics), "topic"):
            futures = self.admin.describe_topics(TopicCollection(topics), **self._timeout_kwargs)

        async def one(name: str) -> TopicInfo | None:
            try:
                description = await self._await(
                    futures[name], f"describe topic {name}", resource="topic", name=name
                )
            except NotFoundError:
                return None
            return convert.topic_from_description(description)

        found = await asyncio.gather(*(one(name) for name in futures))
        return {t.name: t for t in found if t is not None}

    async def topic_configs(self, topics: list[str]) -> list[TopicConfigs]:
        if not topics:
            return []
        return await self._after_broker_loss(lambda: self._topic_configs(topics))

    async def _topic_configs(self, topics: list[str]) -> list[TopicConfigs]:
        with self._sending("describe the configuration of topics " + ", ".join(topics), "topic"):
            resources = [ConfigResource(ResourceType.TOPIC, name) for name in topics]
            futures = self.admin.describe_configs(resources, **self._timeout_kwargs)
        results = await self._await_all(
            futures, lambda r: f"describe the configuration of topic {r.name}", "topic"
        )
        return [convert.topic_configs(r.name, entries) for r, entries in results.items()]

    # --- groups -------------------------------------------------------------------------------

    async def list_groups(self) -> list[GroupListing]:
        with self._sending("list consumer groups"):
            request = self.admin.list_consumer_groups(**self._timeout_kwargs)
        result = await self._await(request, "list consumer groups")
        if result.errors:
            # A partial list would silently shorten an all-groups lag report or a snapshot's
            # consumers; refuse it, typed (a coordinator still loading is retriable).
            raise self._failure(
                result.errors[0],
                f"list consumer groups ({len(result.errors)} broker(s) failed to answer, so "
                "the list would be incomplete)",
                "cluster",
                "",
            )
        return [
            GroupListing(
                group=g.group_id,
                state=convert.GROUP_STATES.get(g.state, GroupState.UNKNOWN),
                simple=bool(g.is_simple_consumer_group),
            )
            for g in result.valid
        ]

    async def describe_groups(self, groups: list[str]) -> list[GroupDescription]:
        if not groups:
            return []
        return await while_moving(self._settings, COORDINATOR_MOVING, self._describe_groups, groups)

    async def _describe_groups(self, groups: list[str]) -> list[GroupDescription]:
        with self._sending("describe consumer groups " + ", ".join(groups), "group"):
            futures = self.admin.describe_consumer_groups(groups, **self._timeout_kwargs)
        await self._settle(list(futures.values()), "describe consumer groups")
        now = utc_now()
        result = []
        for name in groups:
            action = f"describe consumer group {name}"
            try:
                found = self._result(futures[name], action, "group", name)
            except NotFoundError:
                result.append(
                    GroupDescription(
                        group=name, exists=False, state=GroupState.DEAD, observed_at=now
                    )
                )
                continue
            result.append(convert.group_from_description(found, now))
        return result

    async def committed(
        self, groups: list[str], partitions: list[TopicPartition] | None = None
    ) -> list[GroupOffsets]:
        """Through kafka-python: librdkafka 2.16 aborts the process when its offset read is
        answered NOT_COORDINATOR (librdkafka #5040), as a moving coordinator answers.

        No partitions asked, none answered.
        """
        if partitions is not None and not partitions:
            return [GroupOffsets(group=group) for group in groups]
        return await self._kafka_python.committed(groups, partitions)

    # --- offsets in the log ---------------------------------------------------------------------

    async def _list_offsets(
        self, partitions: list[TopicPartition], spec: Any, what: str
    ) -> dict[tuple[str, int], int]:
        if not partitions:
            return {}
        return await while_moving(
            self._settings, LEADER_MOVING, self._ask_offsets, partitions, spec, what
        )

    async def _ask_offsets(
        self, partitions: list[TopicPartition], spec: Any, what: str
    ) -> dict[tuple[str, int], int]:
        with self._sending(f"list {what} offsets", "partition"):
            request = {ConfluentPartition(p.topic, p.partition): spec for p in partitions}
            futures = self.admin.list_offsets(request, **self._timeout_kwargs)
        results = await self._await_all(
            futures, lambda tp: f"list {what} offset of {tp.topic}/{tp.partition}", "partition"
        )
        unknown = sorted(f"{tp.topic}/{tp.partition}" for tp, i in results.items() if i.offset < 0)
        if unknown:
            # librdkafka answers OFFSET_INVALID (-1001), without an error, for a partition
            # whose leader it has lost (a broker down, not yet replaced): asked again.
            raise UnavailableError(
                f"list {what} offsets: no leader answered for {named(unknown)}",
                code="LEADER_NOT_AVAILABLE",
            )
        return {(tp.topic, tp.partition): int(info.offset) for tp, info in results.items()}

    async def log_offsets(self, partitions: list[TopicPartition]) -> list[PartitionOffsets]:
        """Two ListOffsets rounds (earliest, latest), each one request per leader."""
        first = OffsetSpec.earliest()  # type: ignore[no-untyped-call]
        last = OffsetSpec.latest()  # type: ignore[no-untyped-call]
        earliest, latest = await asyncio.gather(
            self._list_offsets(partitions, first, "earliest"),
            self._list_offsets(partitions, last, "latest"),
        )
        return [
            PartitionOffsets(
                topic=p.topic,
                partition=p.partition,
                earliest=earliest[(p.topic, p.partition)],
                latest=latest[(p.topic, p.partition)],
            )
            for p in partitions
        ]

    async def offsets_for_timestamp(
        self, partitions: list[TopicPartition], timestamp_ms: int
    ) -> dict[TopicPartition, int | None]:
        found = await self._list_offsets(
            partitions, OffsetSpec.for_timestamp(timestamp_ms), "timestamp"
        )
        return {
            p: (None if found[(p.topic, p.partition)] < 0 else found[(p.topic, p.partition)])
            for p in partitions
        }

    # --- ACLs -------------------------------------------------------------------------------------

    async def describe_acls(self, acl_filter: AclFilter) -> list[AclBinding]:
        await self._require("describeAcls", "DescribeAcls")
        return await self._after_broker_loss(lambda: self._describe_acls(acl_filter))

    async def _describe_acls(self, acl_filter: AclFilter) -> list[AclBinding]:
        with self._sending("describe ACLs"):
            future = self.admin.describe_acls(
                convert.to_confluent_filter(acl_filter), **self._timeout_kwargs
            )
        found = await self._await(future, "describe ACLs")
        return [b for b in (convert.from_confluent_binding(x) for x in found) if b is not None]

    async def create_acls(self, bindings: list[AclBinding]) -> None:
        await self._require("createAcls", "CreateAcls")
        if not bindings:
            return
        with self._sending("create ACLs"):
            futures = self.admin.create_acls(
                [convert.to_confluent_binding(b) for b in bindings], **self._timeout_kwargs
            )
        await self._await_all(futures, lambda b: f"create ACL {b}")

    async def delete_acls(self, bindings: list[AclBinding]) -> None:
        await self._require("deleteAcls", "DeleteAcls")
        if not bindings:
            return
        with self._sending("delete ACLs"):
            filters = [convert.to_confluent_filter(exact_filter(b)) for b in bindings]
            futures = self.admin.delete_acls(filters, **self._timeout_kwargs)
        await self._await_all(futures, lambda f: f"delete ACL {f}")

    # --- topic writes ------------------------------------------------------------------------

    async def create_topic(
        self, topic: str, partitions: int, replication_factor: int, configs: dict[str, str]
    ) -> None:
        with self._sending(f"create topic {topic}", "topic", topic):
            new = NewTopic(
                topic,
                num_partitions=partitions,
                replication_factor=replication_factor,
                config=configs,
            )
            futures = self.admin.create_topics([new], **self._operation_kwargs)
        await self._await(
            futures[topic], f"create topic {topic}", resource="topic", name=topic, operation=True
        )

    async def create_partitions(self, topic: str, total: int) -> None:
        await self._require("createPartitions", "CreatePartitions")
        with self._sending(f"increase partitions of {topic}", "topic", topic):
            futures = self.admin.create_partitions(
                [NewPartitions(topic, total)], **self._operation_kwargs
            )
        await self._await(
            futures[topic],
            f"increase partitions of {topic}",
            resource="topic",
            name=topic,
            operation=True,
        )

    async def alter_topic_config(self, topic: str, set_: dict[str, str], delete: list[str]) -> None:
        with self._sending(f"alter the configuration of topic {topic}", "topic", topic):
            entries = [
                ConfluentEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                for k, v in set_.items()
            ] + [
                ConfluentEntry(k, None, incremental_operation=AlterConfigOpType.DELETE)
                for k in delete
            ]
            resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)
            futures = self.admin.incremental_alter_configs([resource], **self._timeout_kwargs)
        await self._await_all(
            futures, lambda _: f"alter the configuration of topic {topic}", "topic"
        )

    async def commit_offsets(self, group: str, offsets: list[PartitionOffset]) -> None:
        await while_moving(self._settings, COORDINATOR_MOVING, self._commit_offsets, group, offsets)

    async def _commit_offsets(self, group: str, offsets: list[PartitionOffset]) -> None:
        action = f"commit offsets for group {group}"
        with self._sending(action, "group", group):
            partitions = [ConfluentPartition(o.topic, o.partition, o.offset) for o in offsets]
            futures = self.admin.alter_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group, partitions)], **self._timeout_kwargs
            )
        try:
            result = await self._await(futures[group], action, resource="group", name=group)
            for tp in result.topic_partitions or []:
                if tp.error is not None:
                    raise self._failure(KafkaException(tp.error), action, "partition", tp.topic)
        except ConflictError as error:
            if error.code in _GROUP_ACTIVE:
                raise GroupNotEmptyError(
                    f"{error.message}; group {group} has active members, stop them first",
                    group=group,
                    members=None,
                    code=error.code or "",
                ) from None
            raise

    async def delete_topic(self, topic: str) -> None:
        with self._sending(f"delete topic {topic}", "topic", topic):
            futures = self.admin.delete_topics([topic], **self._operation_kwargs)
        await self._await(
            futures[topic], f"delete topic {topic}", resource="topic", name=topic, operation=True
        )


async def probe_capabilities(
    servers: list[tuple[str, int]], tls: Any, timeout: float
) -> Capabilities:
    """Ask the bootstrap servers in turn; the first answer counts."""
    failures = []
    for host, port in servers:
        try:
            return capabilities_from(await fetch_api_versions(host, port, tls=tls, timeout=timeout))
        except UnavailableError as error:
            failures.append(str(error))
    raise UnavailableError("no bootstrap server answered ApiVersions: " + "; ".join(failures))
