"""confluent-kafka's objects and enums to kcr's read model, and ACL bindings both ways."""

import logging
from typing import Any

from confluent_kafka import ConsumerGroupState

# The public names live in confluent_kafka.admin but are not re-exported for type checkers;
# the private modules are their definitions (pinned by the confluent-kafka <2.17 range).
from confluent_kafka.admin._acl import AclBinding as ConfluentBinding
from confluent_kafka.admin._acl import AclBindingFilter, AclOperation, AclPermissionType
from confluent_kafka.admin._config import ConfigSource as ConfluentSource
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

from kcr.kafka.errors import InvalidRequestError
from kcr.kafka.readmodel import (
    AclFilter,
    AclPatternFilter,
    ConfigEntry,
    GroupDescription,
    GroupMember,
    PartitionInfo,
    TopicConfigs,
    TopicInfo,
    TopicPartition,
    internal_topic,
)
from kcr.model import (
    AclBinding,
    AclPatternType,
    AclPermission,
    AclResourceType,
    ConfigSource,
    GroupState,
)
from kcr.model import (
    AclOperation as KcrOperation,
)
from kcr.model.acl import REPORTED_BY_BROKER
from kcr.model.topic_configs import TOPIC_CONFIGS

log = logging.getLogger(__name__)

GROUP_STATES = {
    ConsumerGroupState.UNKNOWN: GroupState.UNKNOWN,
    ConsumerGroupState.PREPARING_REBALANCING: GroupState.PREPARING_REBALANCE,
    ConsumerGroupState.COMPLETING_REBALANCING: GroupState.COMPLETING_REBALANCE,
    ConsumerGroupState.STABLE: GroupState.STABLE,
    ConsumerGroupState.DEAD: GroupState.DEAD,
    ConsumerGroupState.EMPTY: GroupState.EMPTY,
}

CONFIG_SOURCES = {
    ConfluentSource.DYNAMIC_TOPIC_CONFIG.value: ConfigSource.TOPIC_OVERRIDE,
    ConfluentSource.DYNAMIC_BROKER_CONFIG.value: ConfigSource.BROKER_OVERRIDE,
    ConfluentSource.DYNAMIC_DEFAULT_BROKER_CONFIG.value: ConfigSource.CLUSTER_DEFAULT,
    ConfluentSource.STATIC_BROKER_CONFIG.value: ConfigSource.STATIC_BROKER,
    ConfluentSource.DEFAULT_CONFIG.value: ConfigSource.DEFAULT,
}

RESOURCE_TYPES = {
    AclResourceType.TOPIC: ResourceType.TOPIC,
    AclResourceType.GROUP: ResourceType.GROUP,
    AclResourceType.CLUSTER: ResourceType.BROKER,  # Kafka's CLUSTER is librdkafka's BROKER
    AclResourceType.TRANSACTIONAL_ID: ResourceType.TRANSACTIONAL_ID,
}
PATTERN_TYPES = {
    AclPatternFilter.ANY: ResourcePatternType.ANY,
    AclPatternFilter.MATCH: ResourcePatternType.MATCH,
    AclPatternFilter.LITERAL: ResourcePatternType.LITERAL,
    AclPatternFilter.PREFIXED: ResourcePatternType.PREFIXED,
}
OPERATIONS = {
    op: getattr(AclOperation, op.name) for op in KcrOperation if op.name in AclOperation.__members__
}
PERMISSIONS = {
    AclPermission.ALLOW: AclPermissionType.ALLOW,
    AclPermission.DENY: AclPermissionType.DENY,
}


def _value(raw: Any) -> int:
    return int(getattr(raw, "value", raw))


def config_source(raw: Any) -> ConfigSource:
    return CONFIG_SOURCES.get(_value(raw), ConfigSource.UNKNOWN)


def config_entry(entry: Any) -> ConfigEntry:
    """One entry as the broker reports it; a sensitive value is never kept."""
    return ConfigEntry(
        value=None if entry.is_sensitive else entry.value,
        source=config_source(entry.source),
        sensitive=bool(entry.is_sensitive),
        read_only=bool(entry.is_read_only),
    )


def topic_configs(topic: str, entries: dict[str, Any]) -> TopicConfigs:
    """Sources as Kafka reports them, with one correction for partial listings.

    Kafka lists every topic key, each with its source. A broker that lists fewer than half
    of the standard keys lists only what is stored on the topic (tansu does, marking each
    entry Default): those entries are the topic's overrides and are reported so.
    """
    listed = sum(1 for key in TOPIC_CONFIGS if key in entries)
    partial = listed < len(TOPIC_CONFIGS) // 2
    configs = {}
    for key, entry in sorted(entries.items()):
        source = config_source(entry.source)
        if partial and source in {ConfigSource.DEFAULT, ConfigSource.UNKNOWN}:
            source = ConfigSource.TOPIC_OVERRIDE
        configs[key] = ConfigEntry(
            value=None if entry.is_sensitive else entry.value,
            source=source,
            sensitive=bool(entry.is_sensitive),
            read_only=bool(entry.is_read_only),
        )
    return TopicConfigs(topic=topic, configs=configs)


def _unsupported_acl(what: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"kcr's Kafka client (librdkafka) cannot express ACLs for {what}; manage them with "
        "Kafka's own tools"
    )


def to_confluent_binding(binding: AclBinding) -> ConfluentBinding:
    resource = RESOURCE_TYPES.get(binding.resource_type)
    if resource is None:
        raise _unsupported_acl(f"{binding.resource_type.value} resources")
    operation = OPERATIONS.get(binding.operation)
    if operation is None:
        raise _unsupported_acl(f"the {binding.operation.value} operation")
    return ConfluentBinding(
        resource,
        binding.resource_name,
        PATTERN_TYPES[AclPatternFilter(binding.pattern_type.value)],
        binding.principal,
        binding.host,
        operation,
        PERMISSIONS[binding.permission],
    )


def to_confluent_filter(acl_filter: AclFilter) -> AclBindingFilter:
    resource = ResourceType.ANY
    if acl_filter.resource_type is not None:
        found = RESOURCE_TYPES.get(acl_filter.resource_type)
        if found is None:
            raise _unsupported_acl(f"{acl_filter.resource_type.value} resources")
        resource = found
    operation = AclOperation.ANY
    if acl_filter.operation is not None:
        chosen = OPERATIONS.get(acl_filter.operation)
        if chosen is None:
            raise _unsupported_acl(f"the {acl_filter.operation.value} operation")
        operation = chosen
    permission = (
        PERMISSIONS[acl_filter.permission]
        if acl_filter.permission is not None
        else AclPermissionType.ANY
    )
    # librdkafka takes None for "any" although the stubs say str.
    return AclBindingFilter(
        resource,
        acl_filter.resource_name,  # type: ignore[arg-type]
        PATTERN_TYPES[acl_filter.pattern_type],
        acl_filter.principal,  # type: ignore[arg-type]
        acl_filter.host,  # type: ignore[arg-type]
        operation,
        permission,
    )


_RESOURCE_BACK = {v: k for k, v in RESOURCE_TYPES.items()}
_OPERATION_BACK = {v: k for k, v in OPERATIONS.items()}
_PERMISSION_BACK = {v: k for k, v in PERMISSIONS.items()}
_PATTERN_BACK = {
    ResourcePatternType.LITERAL: AclPatternType.LITERAL,
    ResourcePatternType.PREFIXED: AclPatternType.PREFIXED,
}


def from_confluent_binding(binding: ConfluentBinding) -> AclBinding | None:
    """None, and a warning naming the binding, for one kcr's model cannot hold."""
    try:
        return AclBinding.model_validate(
            {
                "resource_type": _RESOURCE_BACK[ResourceType(binding.restype)],
                "resource_name": binding.name,
                "pattern_type": _PATTERN_BACK[ResourcePatternType(binding.resource_pattern_type)],
                "principal": binding.principal,
                "host": binding.host,
                "operation": _OPERATION_BACK[AclOperation(binding.operation)],
                "permission": _PERMISSION_BACK[AclPermissionType(binding.permission_type)],
            },
            context={REPORTED_BY_BROKER: True},
        )
    except (KeyError, ValueError) as error:
        log.warning(
            "leaving out an ACL binding kcr cannot represent: %s (unsupported %s)", binding, error
        )
        return None


def node_id(node: Any) -> int | None:
    return None if node is None else int(node.id)


def topic_from_metadata(topic: Any) -> TopicInfo:
    return TopicInfo(
        name=topic.topic,
        internal=internal_topic(topic.topic),
        partitions=[
            PartitionInfo(
                partition=p.id, leader=p.leader, replicas=list(p.replicas), isr=list(p.isrs)
            )
            for p in topic.partitions.values()
        ],
    )


def topic_from_description(topic: Any) -> TopicInfo:
    return TopicInfo(
        name=topic.name,
        internal=internal_topic(topic.name, flagged=bool(topic.is_internal)),
        partitions=[
            PartitionInfo(
                partition=p.id,
                leader=node_id(p.leader),
                replicas=[n.id for n in p.replicas],
                isr=[n.id for n in p.isr],
            )
            for p in topic.partitions
        ],
    )


def group_from_description(found: Any, now: Any) -> GroupDescription:
    state = GROUP_STATES.get(found.state, GroupState.UNKNOWN)
    return GroupDescription(
        group=found.group_id,
        exists=state is not GroupState.DEAD,
        state=state,
        assignor=found.partition_assignor or None,
        coordinator=node_id(found.coordinator),
        members=[
            GroupMember(
                member_id=m.member_id,
                client_id=m.client_id or "",
                host=m.host or "",
                group_instance_id=m.group_instance_id,
                assignments=[
                    TopicPartition(topic=tp.topic, partition=tp.partition)
                    for tp in (m.assignment.topic_partitions if m.assignment else [])
                ],
            )
            for m in found.members
        ],
        observed_at=now,
    )
