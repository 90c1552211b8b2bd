"""Cluster limits and facts of the live state that make a change invalid before it runs.

Each violation names the field and the rule, like a schema error does.
"""

from kcr.model import Change, ClusterPolicy, ObservedState
from kcr.model.names import collides

_ROOT = "spec.change"


def limit_violations(
    change: Change, observed: ObservedState | None, policy: ClusterPolicy
) -> list[str]:
    member = change.member
    field = f"{_ROOT}.{change.member_fields()[change.type]}"
    found = change.kind.limit_violations(member, field, observed, policy)
    unknown_allowed = getattr(member, "allow_unknown_keys", False)
    if unknown_allowed and not policy.allow_unknown_config_keys:
        found.append(
            f"{field}.allowUnknownKeys: the cluster policy does not allow unknown configuration "
            "keys (policy.allowUnknownConfigKeys is false)"
        )
    return found


def metric_collisions(topic: str, field: str, observed: ObservedState | None) -> list[str]:
    """Kafka refuses a topic whose name differs from an existing one only in '.' versus '_'."""
    if observed is None:
        return []
    return [
        f"{field}: topic {topic} collides with existing topic {other.name}: Kafka maps '.' and "
        "'_' to the same metric name and refuses to create it; choose another name"
        for other in observed.topics
        if other.exists and collides(other.name, topic)
    ]


def retention_floor(values: dict[str, str], field: str, policy: ClusterPolicy) -> list[str]:
    floor = policy.limits.min_retention_ms
    value = values.get("retention.ms")
    if value is None or floor < 0 or int(value) < 0 or int(value) >= floor:
        return []
    return [
        f"{field}['retention.ms']: {value} ms is below this cluster's minimum retention of "
        f"{floor} ms (policy.limits.minRetentionMs)"
    ]


def too_many_topics(count: int, field: str, policy: ClusterPolicy) -> list[str]:
    limit = policy.limits.max_topics_per_change
    if count <= limit:
        return []
    return [
        f"{field}: {count} topics in one change is above this cluster's limit of {limit} "
        "(policy.limits.maxTopicsPerChange); split the change"
    ]


def missing_topics(topics: list[str], field: str, observed: ObservedState | None) -> list[str]:
    if observed is None:
        return []
    missing = [t for t in topics if (seen := observed.topic(t)) is not None and not seen.exists]
    return [f"{field}: topic {t} does not exist" for t in missing]
