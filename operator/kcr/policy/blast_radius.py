"""What a change can touch: topics, partitions, consumer groups, principals and ACL patterns.

An ACL binding names a resource *pattern* (``*``, a prefix, or a literal name Kafka may
not even allow as a topic), so bindings are listed as patterns; only a literal binding on
a valid name also counts as that topic or group.
"""

from collections.abc import Callable

from kcr.model import (
    AclBinding,
    AclPatternType,
    AclResourceType,
    AlterAcls,
    AlterTopicConfig,
    BlastRadius,
    Change,
    CreateTopic,
    ObservedState,
    ResetConsumerGroupOffsets,
)
from kcr.model.names import check_group_id, check_topic_name


def affected_topics(change: Change) -> list[str]:
    member = change.member
    if isinstance(member, AlterTopicConfig | ResetConsumerGroupOffsets):
        return list(member.topics)
    if isinstance(member, AlterAcls):
        return _literal_names(member, AclResourceType.TOPIC, check_topic_name)
    return [member.topic]


def acl_resource(binding: AclBinding) -> str:
    """``Topic:Prefixed:payments.``: the pattern as Kafka stores it, in one string."""
    return f"{binding.resource_type}:{binding.pattern_type}:{binding.resource_name}"


def blast_radius(change: Change, observed: ObservedState | None) -> BlastRadius:
    """Partition counts come from the observed state; a new topic counts its own."""
    member = change.member
    topics = affected_topics(change)
    partitions = 0
    for topic in topics:
        seen = observed.topic(topic) if observed else None
        if isinstance(member, CreateTopic):
            partitions += member.partitions
        elif seen is not None and seen.exists:
            partitions += seen.partitions
    groups = set(observed.consumers_of_topics) if observed else set()
    if isinstance(member, ResetConsumerGroupOffsets):
        groups.add(member.group)
    principals: list[str] = []
    resources: list[str] = []
    if isinstance(member, AlterAcls):
        groups |= set(_literal_names(member, AclResourceType.GROUP, check_group_id))
        bindings = [*member.add, *member.remove]
        principals = sorted({b.principal for b in bindings})
        resources = sorted({acl_resource(b) for b in bindings})
    return BlastRadius(
        topics=topics,
        partitions=partitions,
        consumer_groups=sorted(groups),
        principals=principals,
        acl_resources=resources,
    )


def _literal_names(
    member: AlterAcls, kind: AclResourceType, check: Callable[[str], str]
) -> list[str]:
    """Names that literal bindings of ``kind`` give exactly and Kafka accepts as such."""
    names = {
        b.resource_name
        for b in [*member.add, *member.remove]
        if b.resource_type is kind
        and b.pattern_type is AclPatternType.LITERAL
        and b.resource_name != "*"
    }
    return sorted(name for name in names if _valid(check, name))


def _valid(check: Callable[[str], str], name: str) -> bool:
    try:
        check(name)
    except ValueError:
        return False
    return True
