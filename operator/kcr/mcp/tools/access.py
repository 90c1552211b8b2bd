"""``check_access``: why a principal may or may not do something to a topic or group."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from kcr.kafka import AclFilter, AclPatternFilter
from kcr.mcp.access import Decision, decide
from kcr.mcp.diagnosis import AccessCheck
from kcr.mcp.evidence import group_subject, topic_subject
from kcr.mcp.gate.calls import ToolFailedError, ToolInvalidError
from kcr.mcp.tools.env import ToolEnv
from kcr.model import (
    AclBinding,
    AclOperation,
    AclResourceType,
    Evidence,
    EvidenceKind,
    TimeWindow,
)
from kcr.model.acl import SUPPORTED_OPERATIONS
from kcr.model.base import KubeModel
from kcr.model.names import GroupId, Principal, TopicName

Host = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=r"^[a-zA-Z0-9.:*-]+$",
        description="The client's address as the broker sees it, or '*' for any",
    ),
]


class AccessResult(KubeModel):
    principal: str
    operation: AclOperation
    resource_type: Literal["Topic", "Group"]
    resource_name: str
    host: str
    decision: Decision
    reason: str
    deciding_bindings: list[AclBinding]
    matching_bindings: list[AclBinding]
    observed_at: datetime
    source: str


async def check_access(
    env: ToolEnv,
    *,
    principal: Principal,
    operation: AclOperation,
    topic: TopicName | None = None,
    group: GroupId | None = None,
    host: Host = "*",
) -> AccessResult:
    """Is a principal allowed an operation on a topic or group, and by which ACL bindings."""
    if (topic is None) == (group is None):
        raise ToolInvalidError("give exactly one of topic or group")
    if topic is not None:
        kind, name = AclResourceType.TOPIC, env.require_topic(topic)
    else:
        assert group is not None
        kind, name = AclResourceType.GROUP, env.require_group(group)
    if operation is not AclOperation.ALL and operation not in SUPPORTED_OPERATIONS[kind]:
        allowed = ", ".join(sorted(SUPPORTED_OPERATIONS[kind]))
        raise ToolInvalidError(
            f"operation {operation} does not apply to a {kind}; use one of {allowed}"
        )
    check = await read_access(
        env, principal=principal, operation=operation, kind=kind, name=name, host=host
    )
    verdict = check.verdict
    result = AccessResult(
        principal=principal,
        operation=operation,
        resource_type="Topic" if kind is AclResourceType.TOPIC else "Group",
        resource_name=name,
        host=host,
        decision=verdict.decision,
        reason=verdict.reason,
        deciding_bindings=verdict.deciding,
        matching_bindings=verdict.matching,
        observed_at=check.observed_at,
        source=check.source,
    )
    subject = topic_subject(name) if kind is AclResourceType.TOPIC else group_subject(name)
    env.remember(
        {subject},
        [
            Evidence(
                kind=EvidenceKind.ACL,
                source=result.source,
                query=f"check_access {principal} {operation} {kind}:{name} from {host}",
                observed_value=f"{verdict.decision}: {verdict.reason}; "
                + "; ".join(b.key() for b in verdict.deciding)[:3000],
                time_window=TimeWindow.at(result.observed_at),
                captured_at=result.observed_at,
            )
        ],
    )
    return result


async def read_access(
    env: ToolEnv,
    *,
    principal: str,
    operation: AclOperation,
    kind: AclResourceType,
    name: str,
    host: str = "*",
) -> AccessCheck:
    """The ACLs on one topic or group read from the broker, and the authorizer's answer."""
    kafka = env.services.kafka
    capabilities = await kafka.capabilities()
    if not capabilities.describe_acls:
        why = capabilities.reason("describeAcls") or "the broker does not serve DescribeAcls"
        raise ToolFailedError(f"ACLs cannot be read on this cluster: {why}")
    bindings = await kafka.describe_acls(
        AclFilter(resource_type=kind, resource_name=name, pattern_type=AclPatternFilter.MATCH)
    )
    return AccessCheck(
        principal=principal,
        operation=operation,
        resource_type=kind,
        resource_name=name,
        verdict=decide(bindings, principal, host, operation, name),
        observed_at=env.now(),
        source=f"kafka/{env.services.cluster.name}: DescribeAcls",
    )
