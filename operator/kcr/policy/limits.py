"""Cluster limits and facts of the live state that make a change invalid before it runs.

Each violation names the field and the rule, like a schema error does.
"""

from kcr.model import (
    AlterTopicConfig,
    Change,
    ClusterPolicy,
    CreateTopic,
    DeleteTopic,
    IncreasePartitions,
    ObservedState,
    ResetConsumerGroupOffsets,
)
from kcr.model.names import collides
from kcr.policy.data_loss import observed_value_problems

_ROOT = "spec.change"


def limit_violations(
    change: Change, observed: ObservedState | None, policy: ClusterPolicy
) -> list[str]:
    member = change.member
    field = f"{_ROOT}.{change.member_fields()[change.type]}"
    found: list[str] = []
    if isinstance(member, CreateTopic):
        found += _create_topic(member, field, observed, policy)
    elif isinstance(member, IncreasePartitions):
        found += _increase_partitions(member, field, observed, policy)
    elif isinstance(member, AlterTopicConfig):
        found += _alter_config(member, field, observed, policy)
    elif isinstance(member, ResetConsumerGroupOffsets):
        found += _too_many(len(member.topics), f"{field}.topics", policy)
    elif isinstance(member, DeleteTopic):
        found += _missing_topics([member.topic], f"{field}.topic", observed)
    unknown_allowed = getattr(member, "allow_unknown_keys", False)
    if unknown_allowed and not policy.allow_unknown_config_keys:
        found.append(
            f"{field}.allowUnknownKeys: the cluster policy does not allow unknown configuration "
            "keys (policy.allowUnknownConfigKeys is false)"
        )
    return found


def _create_topic(
    member: CreateTopic, field: str, observed: ObservedState | None, policy: ClusterPolicy
) -> list[str]:
    limits = policy.limits
    found = []
    if member.partitions > limits.max_partitions:
        found.append(
            f"{field}.partitions: {member.partitions} is above this cluster's limit of "
            f"{limits.max_partitions} partitions per topic (policy.limits.maxPartitions)"
        )
    if member.replication_factor < limits.min_replication_factor:
        found.append(
            f"{field}.replicationFactor: {member.replication_factor} is below this cluster's "
            f"minimum of {limits.min_replication_factor} (policy.limits.minReplicationFactor)"
        )
    if observed and observed.brokers and member.replication_factor > observed.brokers:
        found.append(
            f"{field}.replicationFactor: {member.replication_factor} copies need as many "
            f"brokers, and the cluster has {observed.brokers}"
        )
    min_isr = member.configs.get("min.insync.replicas")
    if min_isr is not None and int(min_isr) > member.replication_factor:
        found.append(
            f"{field}.configs['min.insync.replicas']: {min_isr} is more than the replication "
            f"factor {member.replication_factor}, so producers using acks=all could never write"
        )
    seen = observed.topic(member.topic) if observed else None
    if seen is not None and seen.exists:
        found.append(f"{field}.topic: topic {member.topic} already exists")
    found += _metric_collisions(member.topic, f"{field}.topic", observed)
    found += _retention_floor(member.configs, f"{field}.configs", policy)
    return found


def _metric_collisions(topic: str, field: str, observed: ObservedState | None) -> list[str]:
    """Kafka refuses a topic whose name differs from an existing one only in '.' versus '_'."""
    if observed is None:
        return []
    return [
        f"{field}: topic {topic} collides with existing topic {other.name}: Kafka maps '.' and "
        "'_' to the same metric name and refuses to create it; choose another name"
        for other in observed.topics
        if other.exists and collides(other.name, topic)
    ]


def _increase_partitions(
    member: IncreasePartitions,
    field: str,
    observed: ObservedState | None,
    policy: ClusterPolicy,
) -> list[str]:
    found = _missing_topics([member.topic], f"{field}.topic", observed)
    if member.partitions > policy.limits.max_partitions:
        found.append(
            f"{field}.partitions: {member.partitions} is above this cluster's limit of "
            f"{policy.limits.max_partitions} partitions per topic (policy.limits.maxPartitions)"
        )
    seen = observed.topic(member.topic) if observed else None
    if seen is not None and seen.exists and member.partitions <= seen.partitions:
        found.append(
            f"{field}.partitions: the new total {member.partitions} must be more than the "
            f"current {seen.partitions}; Kafka can only add partitions"
        )
    return found


def _alter_config(
    member: AlterTopicConfig,
    field: str,
    observed: ObservedState | None,
    policy: ClusterPolicy,
) -> list[str]:
    found = _too_many(len(member.topics), f"{field}.topics", policy)
    found += _missing_topics(member.topics, f"{field}.topics", observed)
    found += _retention_floor(member.set, f"{field}.set", policy)
    found += observed_value_problems(member, observed)
    min_isr = member.set.get("min.insync.replicas")
    if min_isr is not None and observed is not None:
        for topic in member.topics:
            seen = observed.topic(topic)
            if (
                seen
                and seen.exists
                and seen.replication_factor
                and (int(min_isr) > seen.replication_factor)
            ):
                found.append(
                    f"{field}.set['min.insync.replicas']: {min_isr} is more than the "
                    f"replication factor {seen.replication_factor} of {topic}, so producers "
                    "using acks=all could never write"
                )
    return found


def _retention_floor(values: dict[str, str], field: str, policy: ClusterPolicy) -> list[str]:
    floor = policy.limits.min_retention_ms
    value = values.get("retention.ms")
    if value is None or floor < 0 or int(value) < 0 or int(value) >= floor:
        return []
    return [
        f"{field}['retention.ms']: {value} ms is below this cluster's minimum retention of "
        f"{floor} ms (policy.limits.minRetentionMs)"
    ]


def _too_many(count: int, field: str, policy: ClusterPolicy) -> list[str]:
    limit = policy.limits.max_topics_per_change
    if count <= limit:
        return []
    return [
        f"{field}: {count} topics in one change is above this cluster's limit of {limit} "
        "(policy.limits.maxTopicsPerChange); split the change"
    ]


def _missing_topics(topics: list[str], field: str, observed: ObservedState | None) -> list[str]:
    if observed is None:
        return []
    missing = [t for t in topics if (seen := observed.topic(t)) is not None and not seen.exists]
    return [f"{field}: topic {t} does not exist" for t in missing]
