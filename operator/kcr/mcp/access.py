"""Why Kafka's authorizer allows or denies: the bindings that match, and which one wins.

The rules of ``AclAuthorizer``/``StandardAuthorizer``: a binding applies when its
resource pattern covers the resource (literal name, ``*``, or a prefix), its principal is
the caller's or ``User:*``, its host is the caller's or ``*``, and its operation is the one
asked, ``All``, or one that implies it (Read, Write, Delete and Alter allow Describe;
AlterConfigs allows DescribeConfigs). Any matching Deny wins; otherwise a matching Allow
allows; with no match the authorizer denies (unless the broker sets
``allow.everyone.if.no.acl.found``, or the principal is a super user, which the ACLs do
not show).
"""

from dataclasses import dataclass
from enum import StrEnum

from kcr.model import AclBinding, AclOperation, AclPatternType, AclPermission

IMPLIES_DESCRIBE = frozenset(
    {AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER}
)


class Decision(StrEnum):
    ALLOWED = "Allowed"
    DENIED = "Denied"


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str
    deciding: list[AclBinding]
    matching: list[AclBinding]


def covers_resource(binding: AclBinding, name: str) -> bool:
    if binding.pattern_type is AclPatternType.PREFIXED:
        return name.startswith(binding.resource_name)
    return binding.resource_name in {name, "*"}


def covers_operation(binding: AclBinding, operation: AclOperation) -> bool:
    if binding.operation in {operation, AclOperation.ALL}:
        return True
    if binding.permission is not AclPermission.ALLOW:
        return False
    if operation is AclOperation.DESCRIBE:
        return binding.operation in IMPLIES_DESCRIBE
    if operation is AclOperation.DESCRIBE_CONFIGS:
        return binding.operation is AclOperation.ALTER_CONFIGS
    return False


def applies(
    binding: AclBinding, principal: str, host: str, operation: AclOperation, name: str
) -> bool:
    return (
        binding.principal in {principal, "User:*"}
        and binding.host in {host, "*"}
        and covers_operation(binding, operation)
        and covers_resource(binding, name)
    )


def decide(
    bindings: list[AclBinding], principal: str, host: str, operation: AclOperation, name: str
) -> Verdict:
    matching = [b for b in bindings if applies(b, principal, host, operation, name)]
    denies = [b for b in matching if b.permission is AclPermission.DENY]
    allows = [b for b in matching if b.permission is AclPermission.ALLOW]
    if denies:
        return Verdict(
            Decision.DENIED,
            f"{len(denies)} Deny binding(s) match, and a Deny always wins over an Allow",
            denies,
            matching,
        )
    if allows:
        return Verdict(
            Decision.ALLOWED, f"{len(allows)} Allow binding(s) match and no Deny", allows, matching
        )
    return Verdict(
        Decision.DENIED,
        f"no binding allows {principal} to {operation} it, so the authorizer denies (unless "
        "the broker sets allow.everyone.if.no.acl.found or lists the principal in super.users)",
        [],
        matching,
    )
