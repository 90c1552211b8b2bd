"""Which bindings a DescribeAcls filter selects on the fake cluster.

A transcription of Apache Kafka's ``ResourcePatternFilter.matches`` and
``AccessControlEntryFilter.matches`` for the fake alone: kcr itself never matches filters
(brokers do), and the contract suite holds this transcription to Apache Kafka's answers.
"""

from kcr.kafka.readmodel import AclFilter, AclPatternFilter
from kcr.model import AclBinding, AclPatternType

WILDCARD = "*"


def _pattern_selected(acl_filter: AclFilter, binding: AclBinding) -> bool:
    wanted = acl_filter.pattern_type
    if acl_filter.resource_type is not None and acl_filter.resource_type != binding.resource_type:
        return False
    specific = wanted not in {AclPatternFilter.ANY, AclPatternFilter.MATCH}
    if specific and wanted.value != binding.pattern_type.value:
        return False
    name = acl_filter.resource_name
    if name is None:
        return True
    if wanted is AclPatternFilter.ANY or wanted.value == binding.pattern_type.value:
        return name == binding.resource_name
    # MATCH: every binding that would apply to a resource called ``name``.
    if binding.pattern_type is AclPatternType.PREFIXED:
        return name.startswith(binding.resource_name)
    return binding.resource_name in {name, WILDCARD}


def _entry_selected(acl_filter: AclFilter, binding: AclBinding) -> bool:
    return all(
        wanted is None or wanted == found
        for wanted, found in (
            (acl_filter.principal, binding.principal),
            (acl_filter.host, binding.host),
            (acl_filter.operation, binding.operation),
            (acl_filter.permission, binding.permission),
        )
    )


def selected(acl_filter: AclFilter, binding: AclBinding) -> bool:
    return _pattern_selected(acl_filter, binding) and _entry_selected(acl_filter, binding)
