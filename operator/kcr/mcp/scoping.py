"""Whether a change stays inside a tenant scope: every topic, group and ACL it touches."""

from kcr.mcp.gate.identity import Scope
from kcr.model import (
    AclBinding,
    AclPatternType,
    AclResourceType,
    AlterAcls,
    Change,
    ResetConsumerGroupOffsets,
)
from kcr.policy import affected_topics


def outside_scope(change: Change, scope: Scope) -> str | None:
    """The first thing the change touches outside ``scope``, in words; None when inside."""
    member = change.member
    if isinstance(member, AlterAcls):
        for binding in [*member.add, *member.remove]:
            problem = _binding_outside(binding, scope)
            if problem is not None:
                return problem
        return None
    for topic in affected_topics(change):
        if not scope.allows_topic(topic):
            return f"topic `{topic}` is outside your scope `{scope.describe_topics()}`"
    if isinstance(member, ResetConsumerGroupOffsets) and not scope.allows_group(member.group):
        return f"consumer group `{member.group}` is outside your scope `{scope.describe_groups()}`"
    return None


def _binding_outside(binding: AclBinding, scope: Scope) -> str | None:
    name = binding.resource_name
    prefixed = binding.pattern_type is AclPatternType.PREFIXED
    if binding.resource_type is AclResourceType.TOPIC:
        allowed = scope.allows_topic_prefix(name) if prefixed else scope.allows_topic(name)
        described = scope.describe_topics()
    elif binding.resource_type is AclResourceType.GROUP:
        allowed = scope.allows_group_prefix(name) if prefixed else scope.allows_group(name)
        described = scope.describe_groups()
    else:
        allowed, described = scope.unrestricted, "topics and groups only"
    if name == "*" and not scope.unrestricted:
        allowed = False
    if allowed:
        return None
    kind = "prefix" if prefixed else "name"
    return f"ACL on {binding.resource_type} {kind} `{name}` is outside your scope `{described}`"
