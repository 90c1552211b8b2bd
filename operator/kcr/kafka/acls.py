"""Kafka's rules for which bindings an ACL filter selects (``AclBindingFilter.matches``)."""

from kcr.kafka.readmodel import AclFilter, AclPatternFilter
from kcr.model import AclBinding, AclPatternType


def _name_matches(acl_filter: AclFilter, binding: AclBinding) -> bool:
    name = acl_filter.resource_name
    pattern = acl_filter.pattern_type
    if pattern is AclPatternFilter.MATCH:
        if name is None:
            return True
        if binding.pattern_type is AclPatternType.PREFIXED:
            return name.startswith(binding.resource_name)
        return binding.resource_name in {name, "*"}
    if pattern is not AclPatternFilter.ANY and binding.pattern_type.value != pattern.value:
        return False
    return name is None or binding.resource_name == name


def binding_matches(acl_filter: AclFilter, binding: AclBinding) -> bool:
    """Null filter fields match anything; ``Match`` also selects wildcard and prefix bindings."""
    wanted = (
        (acl_filter.resource_type, binding.resource_type),
        (acl_filter.principal, binding.principal),
        (acl_filter.host, binding.host),
        (acl_filter.operation, binding.operation),
        (acl_filter.permission, binding.permission),
    )
    if any(want is not None and want != have for want, have in wanted):
        return False
    return _name_matches(acl_filter, binding)
