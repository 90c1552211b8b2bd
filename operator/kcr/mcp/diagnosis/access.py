"""Detector on access questions: a client the authorizer refuses, and the grant it lacks.

The broker does not tell kcr which clients it refused; the person asking names the client
(principal and operation), and the ACLs read from the broker say why it is refused.
"""

from kcr.kinds.alter_acls import AlterAcls
from kcr.mcp.access import Decision
from kcr.mcp.diagnosis.findings import AccessCheck, Facts, Finding, FindingKind, Proposal, Severity
from kcr.model import (
    AclBinding,
    AclPatternType,
    AclPermission,
    Change,
    Evidence,
    EvidenceKind,
    TimeWindow,
)

ACCESS_DENIED_SCORE = 90.0
"""A refused client does no work at all: above every consumer finding, below data loss."""


def access_denied(facts: Facts) -> list[Finding]:
    findings = []
    for check in facts.access:
        if check.verdict.decision is not Decision.DENIED:
            continue
        resource = f"{check.resource_type}:{check.resource_name}"
        explicit = bool(check.verdict.deciding)
        findings.append(
            Finding(
                kind=FindingKind.ACCESS_DENIED,
                severity=Severity.HIGH,
                score=ACCESS_DENIED_SCORE,
                subject=f"{check.resource_type.value.lower()}/{check.resource_name}",
                topic=check.resource_name if check.resource_type.value == "Topic" else None,
                group=check.resource_name if check.resource_type.value == "Group" else None,
                summary=(
                    f"the authorizer refuses {check.principal} {check.operation} on {resource}: "
                    f"{check.verdict.reason}"
                ),
                evidence=[_evidence(check)],
                # An explicit Deny is someone's decision: people weigh it, no grant is drafted.
                proposal=None if explicit else _grant(check),
            )
        )
    return findings


def _evidence(check: AccessCheck) -> Evidence:
    deciding = "; ".join(b.key() for b in check.verdict.deciding)
    return Evidence(
        kind=EvidenceKind.ACL,
        source=check.source,
        query=(
            f"check_access {check.principal} {check.operation} "
            f"{check.resource_type}:{check.resource_name}"
        ),
        observed_value=f"{check.verdict.decision}: {check.verdict.reason}; {deciding}"[:4096],
        time_window=TimeWindow.at(check.observed_at),
        captured_at=check.observed_at,
    )


def _grant(check: AccessCheck) -> Proposal:
    binding = AclBinding(
        resource_type=check.resource_type,
        resource_name=check.resource_name,
        pattern_type=AclPatternType.LITERAL,
        principal=check.principal,
        host="*",
        operation=check.operation,
        permission=AclPermission.ALLOW,
    )
    return Proposal(
        change=Change.of(AlterAcls(add=[binding])),
        reason=(
            f"{check.principal} is refused {check.operation} on "
            f"{check.resource_type}:{check.resource_name} because no binding allows it; grant "
            "exactly that, on the one resource (Literal), nothing broader"
        ),
    )
