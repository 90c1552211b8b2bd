"""check_access's authorizer rules, table-driven: which bindings match and which wins."""

import pytest

from kcr.mcp.access import Decision, decide
from kcr.model import AclBinding, AclOperation, AclPatternType, AclPermission, AclResourceType


def binding(
    operation: AclOperation,
    *,
    name: str = "orders",
    pattern: AclPatternType = AclPatternType.LITERAL,
    principal: str = "User:app",
    host: str = "*",
    permission: AclPermission = AclPermission.ALLOW,
) -> AclBinding:
    return AclBinding(
        resource_type=AclResourceType.TOPIC,
        resource_name=name,
        pattern_type=pattern,
        principal=principal,
        host=host,
        operation=operation,
        permission=permission,
    )


READ = binding(AclOperation.READ)
DENY_READ = binding(AclOperation.READ, permission=AclPermission.DENY)
PREFIX_WRITE = binding(AclOperation.WRITE, name="ord", pattern=AclPatternType.PREFIXED)
ANYONE_ALL = binding(AclOperation.ALL, name="*", principal="User:*")
OTHER_HOST = binding(AclOperation.READ, host="10.0.0.9")
DENY_WRITE = binding(AclOperation.WRITE, permission=AclPermission.DENY)
ALTER_CONFIGS = binding(AclOperation.ALTER_CONFIGS)

CASES = [
    pytest.param([READ], AclOperation.READ, Decision.ALLOWED, [READ], id="literal-allow"),
    pytest.param([], AclOperation.READ, Decision.DENIED, [], id="no-binding-denies"),
    pytest.param(
        [READ, DENY_READ], AclOperation.READ, Decision.DENIED, [DENY_READ], id="deny-wins"
    ),
    pytest.param([PREFIX_WRITE], AclOperation.WRITE, Decision.ALLOWED, [PREFIX_WRITE], id="prefix"),
    pytest.param([ANYONE_ALL], AclOperation.DELETE, Decision.ALLOWED, [ANYONE_ALL], id="wildcards"),
    pytest.param([OTHER_HOST], AclOperation.READ, Decision.DENIED, [], id="other-host"),
    pytest.param(
        [READ], AclOperation.DESCRIBE, Decision.ALLOWED, [READ], id="read-implies-describe"
    ),
    pytest.param(
        [DENY_WRITE], AclOperation.DESCRIBE, Decision.DENIED, [], id="deny-implies-nothing"
    ),
    pytest.param(
        [ALTER_CONFIGS],
        AclOperation.DESCRIBE_CONFIGS,
        Decision.ALLOWED,
        [ALTER_CONFIGS],
        id="alterconfigs-implies-describeconfigs",
    ),
    pytest.param([READ], AclOperation.WRITE, Decision.DENIED, [], id="other-operation"),
]


@pytest.mark.parametrize(("bindings", "operation", "decision", "deciding"), CASES)
def test_decision(
    bindings: list[AclBinding],
    operation: AclOperation,
    decision: Decision,
    deciding: list[AclBinding],
) -> None:
    verdict = decide(bindings, "User:app", "10.0.0.1", operation, "orders")
    assert verdict.decision is decision
    assert verdict.deciding == deciding


def test_other_principals_bindings_do_not_apply() -> None:
    verdict = decide(
        [binding(AclOperation.READ, principal="User:bob")],
        "User:app",
        "*",
        AclOperation.READ,
        "orders",
    )
    assert verdict.decision is Decision.DENIED
    assert verdict.matching == []
    assert "no binding allows User:app to Read" in verdict.reason
