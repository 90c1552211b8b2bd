"""What a change can touch: topics, partitions, consumer groups, principals and ACL patterns.

An ACL binding names a resource *pattern* (``*``, a prefix, or a literal name Kafka may
not even allow as a topic), so bindings are listed as patterns; only a literal binding on
a valid name also counts as that topic or group.
"""

from kcr.model import AclBinding, BlastRadius, Change, ObservedState


def affected_topics(change: Change) -> list[str]:
    return change.kind.topics(change.member)


def acl_resource(binding: AclBinding) -> str:
    """``Topic:Prefixed:payments.``: the pattern as Kafka stores it, in one string."""
    return f"{binding.resource_type}:{binding.pattern_type}:{binding.resource_name}"


def blast_radius(change: Change, observed: ObservedState | None) -> BlastRadius:
    """Partition counts come from the observed state; a new topic counts its own."""
    return change.kind.blast_radius(change.member, observed)
