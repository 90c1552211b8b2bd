"""What a change can touch: topics, partitions, consumer groups and principals."""

from kcr.model import (
    AclResourceType,
    AlterAcls,
    AlterTopicConfig,
    BlastRadius,
    Change,
    CreateTopic,
    ObservedState,
    ResetConsumerGroupOffsets,
)


def affected_topics(change: Change) -> list[str]:
    member = change.member
    if isinstance(member, AlterTopicConfig | ResetConsumerGroupOffsets):
        return list(member.topics)
    if isinstance(member, AlterAcls):
        return sorted(
            {
                b.resource_name
                for b in [*member.add, *member.remove]
                if b.resource_type is AclResourceType.TOPIC
            }
        )
    return [member.topic]


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
    if isinstance(member, AlterAcls):
        groups |= {
            b.resource_name
            for b in [*member.add, *member.remove]
            if b.resource_type is AclResourceType.GROUP
        }
    principals = (
        sorted({b.principal for b in [*member.add, *member.remove]})
        if isinstance(member, AlterAcls)
        else []
    )
    return BlastRadius(
        topics=topics,
        partitions=partitions,
        consumer_groups=sorted(groups),
        principals=principals,
    )
