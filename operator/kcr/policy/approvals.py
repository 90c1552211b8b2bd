"""Who may approve, and whether enough of them have, for the exact spec that was reviewed."""

from dataclasses import dataclass, field

from kcr.model import ClusterPolicy, Risk
from kcr.policy.authority import Action, identity_refusal


@dataclass(frozen=True)
class ApprovalVerdict:
    accepted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """One plain-words reason per refused approval."""
    required: int = 1

    @property
    def satisfied(self) -> bool:
        return not self.refused and len(self.accepted) >= self.required

    @property
    def message(self) -> str:
        parts = list(self.refused)
        if len(self.accepted) < self.required:
            parts.append(
                f"{len(self.accepted)} of {self.required} required approvals "
                f"({', '.join(self.accepted) or 'none yet'})"
            )
        return "; ".join(parts) or f"approved by {', '.join(self.accepted)}"


def parse_approvers(annotation: str | None) -> list[str]:
    """The comma list in ``kcr.dev/approved-by``, without blanks or repeats, in order."""
    names = [name.strip() for name in (annotation or "").split(",")]
    return list(dict.fromkeys(name for name in names if name))


def evaluate_approvals(
    *,
    approvers: list[str],
    approved_spec_hash: str | None,
    spec_hash: str,
    requester: str,
    risk: Risk,
    policy: ClusterPolicy,
) -> ApprovalVerdict:
    required = policy.approvals_for(risk)
    if not approvers:
        return ApprovalVerdict(required=required)
    if approved_spec_hash != spec_hash:
        return ApprovalVerdict(
            required=required,
            refused=[
                "kcr.dev/approved-spec-hash "
                f"{(approved_spec_hash or 'missing')[:12]} does not match status.specHash "
                f"{spec_hash[:12]}: the approval was given for a different spec; review the "
                "current one and approve its hash"
            ],
        )
    # Group membership is the admission policy's to check (the operator cannot see groups);
    # every other rule on who may approve is the same one the API server applies.
    verdicts = {
        user: identity_refusal(Action.APPROVE, user=user, requester=requester, approver=True)
        for user in approvers
    }
    refused = [reason for reason in verdicts.values() if reason]
    accepted = [user for user, reason in verdicts.items() if not reason]
    return ApprovalVerdict(accepted=accepted, refused=refused, required=required)
