"""Whether a change stays inside a tenant scope: every topic, group, ACL and client quota
entity it touches."""

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
    for entity in kind.quota_entities(member):
        for entity_type, name in sorted(entity.items()):
            problem = _quota_name_outside(entity_type, name, scope)
            if problem is not None:
                return problem
    return None


def _quota_name_outside(entity_type: str, name: str | None, scope: Scope) -> str | None:
    """A tenant sets quotas of users and client ids named under its own prefixes, as
    ``describe_quotas`` shows them; a default reaches every tenant's clients."""
    if scope.unrestricted:
        return None
    if name is None:
        return (
            f"the default {entity_type} quota reaches every client without its own quota, "
            "beyond your scope; ask a platform administrator"
        )
    if scope.allows_topic(name) or scope.allows_group(name):
        return None
    return (
        f"{entity_type} `{name}` is outside your scope: you may set the quotas of users and "
        f"client ids named under your topic prefixes `{scope.describe_topics()}` or group "
        f"prefixes `{scope.describe_groups()}`"
    )


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
