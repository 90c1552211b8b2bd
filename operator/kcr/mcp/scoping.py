"""Whether a change stays inside a tenant scope: every topic, group and ACL it touches."""

from kcr.mcp.gate.identity import Scope
from kcr.model import AclBinding, AclPatternType, AclResourceType, Change


def outside_scope(change: Change, scope: Scope) -> str | None:
    """The first thing the change touches outside ``scope``, in words; None when inside."""
    kind, member = change.kind, change.member
    bindings = kind.acl_bindings(member)
    if bindings:  # patterns: each is checked as a pattern, not as the names it happens to hit
        return next(filter(None, (_binding_outside(b, scope) for b in bindings)), None)
    for topic in kind.topics(member):
        if not scope.allows_topic(topic):
            return f"topic `{topic}` is outside your scope `{scope.describe_topics()}`"
    for group in kind.consumer_groups(member):
        if not scope.allows_group(group):
            return f"consumer group `{group}` is outside your scope `{scope.describe_groups()}`"
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
