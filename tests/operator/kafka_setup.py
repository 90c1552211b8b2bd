"""Kafka states for operator tests, set up in the fake, and drafts taken from them.

A draft's ``spec.observed`` is read through the port, as the MCP draft tools read it, so a
test's draft matches the fake unless the test changes the fake on purpose (a stale plan).
"""

from typing import Any

from kcr import kinds
from kcr.kafka.fake import FakeCluster, FakeKafka
from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.delete_topic import DeleteTopic
from kcr.kinds.increase_partitions import IncreasePartitions
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.model import (
    AclBinding,
    Change,
    DeploymentRef,
    HealthGates,
    KafkaChangeRequestSpec,
    OffsetTarget,
    RequestedBy,
    Rollout,
)
from kcr.model.base import KubeModel

REQUESTER = "User:alice"
CLUSTER = "prod"


async def draft(
    kafka: FakeKafka,
    member: KubeModel,
    *,
    bake_seconds: int = 0,
    gates: HealthGates | None = None,
    **rollout: Any,
) -> KafkaChangeRequestSpec:
    """What a draft tool would submit: the change plus the live state it saw."""
    observed = await kinds.take_snapshot(kafka, Change.of(member))
    return KafkaChangeRequestSpec(
        cluster=CLUSTER,
        change=Change.of(member),
        requested_by=RequestedBy(principal=REQUESTER, channel="mcp", correlation_id="corr-42"),
        reason="operator test",
        observed=observed,
        rollout=Rollout(bake_seconds=bake_seconds, gates=gates or HealthGates(), **rollout),
    )


async def topic(cluster: FakeCluster, name: str, partitions: int = 3, **configs: str) -> None:
    await cluster.create_topic(
        name, partitions, 3, {k.replace("_", "."): v for k, v in configs.items()}
    )


def acl(operation: str, principal: str = "User:bob") -> AclBinding:
    return AclBinding(
        resource_type="Topic", resource_name="orders", principal=principal, operation=operation
    )


async def consumed(cluster: FakeCluster, group: str, name: str, records: int = 10) -> None:
    """Records on every partition and a group that committed half of them, now idle."""
    partitions = len(cluster.topics[name].partitions)
    for partition in range(partitions):
        cluster.produce(name, partition, records)
    cluster.commit(group, {(name, p): records // 2 for p in range(partitions)})


async def prepare(kind: str, cluster: FakeCluster) -> KubeModel:
    """The fake made ready for one change of ``kind``; returns the change."""
    if kind == "CreateTopic":
        return CreateTopic(topic="payments", partitions=3, replication_factor=3)
    await topic(cluster, "orders", retention_ms="86400000")
    if kind == "IncreasePartitions":
        return IncreasePartitions(topic="orders", partitions=6)
    if kind == "AlterTopicConfig":
        await topic(cluster, "invoices", retention_ms="86400000")
        return AlterTopicConfig(topics=["orders", "invoices"], set={"retention.ms": "172800000"})
    if kind == "ResetConsumerGroupOffsets":
        await consumed(cluster, "billing", "orders")
        return ResetConsumerGroupOffsets(
            group="billing", topics=["orders"], to=OffsetTarget(earliest=True)
        )
    if kind == "AlterAcls":
        cluster.acls.append(acl("Write"))
        return AlterAcls(add=[acl("Read")], remove=[acl("Write")])
    assert kind == "DeleteTopic"
    return DeleteTopic(topic="orders")


def scaled_reset(namespace: str, name: str) -> ResetConsumerGroupOffsets:
    return ResetConsumerGroupOffsets(
        group="billing",
        topics=["orders"],
        to=OffsetTarget(earliest=True),
        scale_deployment=DeploymentRef(namespace=namespace, name=name),
    )
