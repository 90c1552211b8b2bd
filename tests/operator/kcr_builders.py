"""Builders for change requests of every kind, with the live state their drafts saw."""

from datetime import UTC, datetime
from typing import Any

from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.delete_topic import DeleteTopic
from kcr.kinds.increase_partitions import IncreasePartitions
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.model import (
    AclBinding,
    Change,
    ConfigSource,
    DeploymentRef,
    KafkaChangeRequestSpec,
    ObservedConfig,
    ObservedDeployment,
    ObservedGroup,
    ObservedPartition,
    ObservedState,
    ObservedTopic,
    OffsetTarget,
    RequestedBy,
)
from kcr.model.base import KubeModel

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
REQUESTER = "User:alice"
CLUSTER = "prod"


def spec_of(
    member: KubeModel, observed: ObservedState | None = None, **extra: Any
) -> KafkaChangeRequestSpec:
    return KafkaChangeRequestSpec(
        cluster=CLUSTER,
        change=Change.of(member),
        requested_by=RequestedBy(principal=REQUESTER, channel="kubectl", correlation_id="c-1"),
        reason="test change",
        observed=observed,
        **extra,
    )


def topic(name: str, partitions: int = 3, rf: int = 3, **configs: str) -> ObservedTopic:
    return ObservedTopic(
        name=name,
        partitions=partitions,
        replication_factor=rf,
        configs={
            key.replace("_", "."): ObservedConfig(value=value, source=ConfigSource.TOPIC_OVERRIDE)
            for key, value in configs.items()
        },
    )


def state(*topics: ObservedTopic, **extra: Any) -> ObservedState:
    return ObservedState(captured_at=T0, brokers=3, topics=list(topics), **extra)


def create_topic(name: str = "payments") -> KafkaChangeRequestSpec:
    member = CreateTopic(topic=name, partitions=3, replication_factor=3)
    return spec_of(member, state(ObservedTopic(name=name, exists=False)))


def increase_partitions(name: str = "orders") -> KafkaChangeRequestSpec:
    return spec_of(IncreasePartitions(topic=name, partitions=6), state(topic(name, 3)))


def alter_config(*names: str, retention: str = "172800000") -> KafkaChangeRequestSpec:
    names = names or ("orders",)
    member = AlterTopicConfig(topics=list(names), set={"retention.ms": retention})
    seen = [topic(n, retention_ms="86400000") for n in names]
    return spec_of(member, state(*seen))


def reset_offsets(
    group: str = "billing", name: str = "orders", deployment: bool = False
) -> KafkaChangeRequestSpec:
    member = ResetConsumerGroupOffsets(
        group=group,
        topics=[name],
        to=OffsetTarget(earliest=True),
        scale_deployment=DeploymentRef(namespace="apps", name="billing") if deployment else None,
    )
    seen = ObservedGroup(
        group=group,
        partitions=[
            ObservedPartition(topic=name, partition=p, committed=5, log_end=10) for p in range(3)
        ],
    )
    deployments = [ObservedDeployment(namespace="apps", name="billing", replicas=2)]
    return spec_of(
        member,
        state(topic(name), consumer_groups=[seen], deployments=deployments if deployment else []),
    )


def binding(principal: str = "User:bob", operation: str = "Read") -> AclBinding:
    return AclBinding(
        resource_type="Topic", resource_name="orders", principal=principal, operation=operation
    )


def alter_acls(add: bool = True, remove: bool = False) -> KafkaChangeRequestSpec:
    member = AlterAcls(
        add=[binding()] if add else [],
        remove=[binding(operation="Write")] if remove else [],
    )
    acls = [binding(operation="Write")] if remove else []
    return spec_of(member, state(topic("orders"), acls=acls))


def delete_topic(name: str = "orders") -> KafkaChangeRequestSpec:
    return spec_of(DeleteTopic(topic=name), state(topic(name)))


ALL_KINDS = {
    "CreateTopic": create_topic,
    "IncreasePartitions": increase_partitions,
    "AlterTopicConfig": lambda: alter_config("orders", "invoices"),
    "ResetConsumerGroupOffsets": reset_offsets,
    "AlterAcls": lambda: alter_acls(add=True, remove=True),
    "DeleteTopic": delete_topic,
}
