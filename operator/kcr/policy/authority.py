"""Who may steer a change request, and in which phase: the one statement of these rules.

The API server's admission policy (``manifests/admission/policy.yaml``) enforces the
identity half in CEL, the operator's engine enforces both halves before it acts, and the
kubectl plugin explains a refusal before sending the patch. All three read their rules
here (the CEL is tested against :func:`identity_refusal` on a table of cases), so a person
refused by one is refused by the others for the same reason.
"""

from enum import StrEnum

from kcr.model import Phase


class Action(StrEnum):
    """What a person says with an annotation."""

    APPROVE = "approve"
    REJECT = "reject"
    CONTINUE = "continue"
    ABORT = "abort"
    ROLLBACK = "rollback"


PHASES: dict[Action, frozenset[Phase]] = {
    Action.APPROVE: frozenset({Phase.PENDING, Phase.AWAITING_APPROVAL}),
    Action.REJECT: frozenset({Phase.PENDING, Phase.AWAITING_APPROVAL, Phase.APPROVED}),
    Action.CONTINUE: frozenset({Phase.PAUSED, Phase.EXECUTING}),
    Action.ABORT: frozenset(
        {
            Phase.PENDING,
            Phase.AWAITING_APPROVAL,
            Phase.APPROVED,
            Phase.EXECUTING,
            Phase.PAUSED,
            Phase.AWAITING_ROLLBACK_APPROVAL,
            Phase.ROLLING_BACK,
        }
    ),
    # Failed is final: the operator no longer acts on it, so a rollback there is ignored.
    Action.ROLLBACK: frozenset({Phase.EXECUTING, Phase.PAUSED, Phase.SUCCEEDED}),
}

VERBS = {
    Action.APPROVE: "approved",
    Action.REJECT: "rejected",
    Action.CONTINUE: "continued",
    Action.ABORT: "aborted",
    Action.ROLLBACK: "rolled back",
}


def same_person(user: str, principal: str) -> bool:
    """``alice`` approving a request by ``User:alice`` is the requester approving.

    So is ``oidc:alice`` approving a request by ``oidc:alice``: Kubernetes user names may
    hold colons themselves, so the whole principal counts as well as the part after one.
    """
    name = user.strip().lower()
    whole = principal.strip().lower()
    return name in {whole, whole.split(":", 1)[-1].strip()}


def identity_refusal(action: Action, *, user: str, requester: str, approver: bool) -> str:
    """Why ``user`` may not take ``action`` on a request by ``requester``; empty when allowed.

    ``approver`` says whether the user is in the approvers group. Approving and releasing a
    manual gate take a member of the group who did not ask for the change; rejecting takes
    a member or the requester (who may withdraw); asking for a rollback takes a member or
    the requester too (someone else approves it); abort is for anyone allowed to update the
    request (RBAC decides).
    """
    requested = same_person(user, requester)
    if action in (Action.APPROVE, Action.CONTINUE):
        if requested:
            return f"{user} requested this change and may not {action.value} it"
        if not approver:
            return f"{user} is not in the approvers group and may not {action.value} it"
    if action in (Action.REJECT, Action.ROLLBACK) and not (approver or requested):
        return (
            f"{user} is neither in the approvers group nor the requester and may not "
            f"{'reject it' if action is Action.REJECT else 'ask for its rollback'}"
        )
    return ""


def phase_refusal(action: Action, phase: Phase, name: str) -> str:
    """Why ``action`` does not apply to a request in ``phase``; empty when it does."""
    allowed = PHASES[action]
    if phase in allowed:
        return ""
    names = ", ".join(sorted(p.value for p in allowed))
    return f"{name} is {phase.value}: it can be {VERBS[action]} only when {names}"
