"""How far an ACL binding reaches: a wildcard or prefix can cover far more than it names.

A grant ``All`` on topics prefixed ``_`` reaches ``__consumer_offsets``; ``User:*`` is
every authenticated client; a Cluster binding governs the whole cluster. Each finding is
a risk floor with the reason in plain words.
"""

from dataclasses import dataclass
from fnmatch import fnmatchcase

from kcr.model import (
    AclBinding,
    AclPatternType,
    AclPermission,
    AclResourceType,
    ClusterPolicy,
    Risk,
)
from kcr.policy.protected import prefix_reaches, protected_patterns


@dataclass(frozen=True)
class Breadth:
    risk: Risk
    reason: str


def acl_breadth(binding: AclBinding, policy: ClusterPolicy) -> list[Breadth]:
    found = []
    what = _describe(binding)
    reached = _protected_reached(binding, policy)
    if reached:
        found.append(
            Breadth(
                Risk.CRITICAL,
                f"{what} covers protected or internal topics matching "
                + ", ".join(repr(p) for p in reached),
            )
        )
    if binding.principal.split(":", 1)[1] == "*":
        found.append(Breadth(Risk.HIGH, f"{what} applies to every authenticated client"))
    if binding.resource_name == "*":
        kind = str(binding.resource_type).lower()
        found.append(Breadth(Risk.HIGH, f"{what} covers every {kind}, present and future"))
    if (
        binding.resource_type is AclResourceType.CLUSTER
        and binding.permission is AclPermission.ALLOW
    ):
        found.append(
            Breadth(Risk.HIGH, f"{what} grants a cluster-wide operation, not one topic or group")
        )
    return found


def _protected_reached(binding: AclBinding, policy: ClusterPolicy) -> list[str]:
    if binding.resource_type is not AclResourceType.TOPIC:
        return []
    name = binding.resource_name
    patterns = protected_patterns(policy)
    if name == "*":
        return patterns
    if binding.pattern_type is AclPatternType.PREFIXED:
        return [p for p in patterns if prefix_reaches(name, p)]
    return [p for p in patterns if fnmatchcase(name, p)]


def _describe(binding: AclBinding) -> str:
    pattern = "prefixed" if binding.pattern_type is AclPatternType.PREFIXED else "named"
    return (
        f"{binding.permission} {binding.operation} for {binding.principal} on "
        f"{binding.resource_type} {pattern} {binding.resource_name!r}"
    )
