"""Who may approve, and whether enough of them have, for the exact spec that was reviewed."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from kcr.model import ClusterPolicy, Risk
from kcr.policy.authority import Action, identity_refusal


@dataclass(frozen=True)
class ApprovalVerdict:
    accepted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """One plain-words reason per refused approval."""
    required: int = 1
    signed: list[str] = field(default_factory=list)
    """The accepted approvers proven by their SSH signature (GitOps) rather than in-cluster."""
    unverified: list[str] = field(default_factory=list)
    """One reason per signature that proves nothing: it counts as no approval at all."""

    @property
    def satisfied(self) -> bool:
        return not self.refused and len(self.accepted) >= self.required

    @property
    def message(self) -> str:
        parts = [*self.refused, *self.unverified]
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
    signed: Sequence[str] = (),
    unverified: Sequence[str] = (),
) -> ApprovalVerdict:
    """``approvers`` come from the annotation, bound by ``approved_spec_hash``; ``signed`` are
    approvers whose signature over ``spec_hash`` verified, ``unverified`` why others did not."""
    required = policy.approvals_for(risk)
    if approvers and approved_spec_hash != spec_hash:
        return ApprovalVerdict(
            required=required,
            refused=[
                "kcr.dev/approved-spec-hash "
                f"{(approved_spec_hash or 'missing')[:12]} does not match status.specHash "
                f"{spec_hash[:12]}: the approval was given for a different spec; review the "
                "current one and approve its hash"
            ],
            unverified=list(unverified),
        )
    names = list(dict.fromkeys([*approvers, *signed]))
    # Group membership is the admission policy's to check (the operator cannot see groups);
    # every other rule on who may approve is the same one the API server applies.
    verdicts = {
        user: identity_refusal(Action.APPROVE, user=user, requester=requester, approver=True)
        for user in names
    }
    refused = [reason for reason in verdicts.values() if reason]
    accepted = [user for user, reason in verdicts.items() if not reason]
    return ApprovalVerdict(
        accepted=accepted,
        refused=refused,
        required=required,
        signed=[user for user in accepted if user in signed and user not in approvers],
        unverified=list(unverified),
    )
