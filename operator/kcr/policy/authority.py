"""Who may steer a change request, and in which phase: the one statement of these rules.

The API server's admission policy (``manifests/admission/policy.yaml``) enforces the
identity half in CEL, the operator's engine enforces both halves before it acts, and the
kubectl plugin explains a refusal before sending the patch. All three read their rules
here (the CEL is tested against :func:`identity_refusal` in every phase each action
applies to), so a person refused by one is refused by the others for the same reason.
The phase sets the operator, the MCP server and the demo wait on live here too.
"""

from enum import StrEnum

from kcr.model import Phase

TERMINAL_PHASES = frozenset(
    {
        Phase.INVALID,
        Phase.REJECTED,
        Phase.EXPIRED,
        Phase.STALE,
        Phase.FAILED,
        Phase.ROLLED_BACK,
        Phase.ROLLBACK_FAILED,
    }
)
"""The operator no longer acts on these: nothing will happen to the request any more."""
FINISHED_PHASES = TERMINAL_PHASES | {Phase.SUCCEEDED}
"""Its change is done with; after Succeeded only a rollback, reviewed as a change of its own,
may follow."""
ACTIVE_PHASES = frozenset({Phase.EXECUTING, Phase.PAUSED, Phase.ROLLING_BACK})
"""Writing to Kafka or between two writes: the request holds the resources it changes."""
ROLLBACK_ENDED_PHASES = frozenset({Phase.ROLLED_BACK, Phase.ROLLBACK_FAILED})


class Action(StrEnum):
    """What a person says with an annotation."""

    APPROVE = "approve"
    REJECT = "reject"
    CONTINUE = "continue"
    ABORT = "abort"
    ROLLBACK = "rollback"
    APPROVE_ROLLBACK = "approve-rollback"


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
    Action.APPROVE_ROLLBACK: frozenset({Phase.AWAITING_ROLLBACK_APPROVAL}),
}

CAN_BE = {
    Action.APPROVE: "it can be approved",
    Action.REJECT: "it can be rejected",
    Action.CONTINUE: "it can be continued",
    Action.ABORT: "it can be aborted",
    Action.ROLLBACK: "it can be rolled back",
    Action.APPROVE_ROLLBACK: "its rollback can be approved",
}
MAY_NOT = {
    Action.APPROVE: "approve it",
    Action.REJECT: "reject it",
    Action.CONTINUE: "continue it",
    Action.ABORT: "abort it",
    Action.ROLLBACK: "ask for its rollback",
    Action.APPROVE_ROLLBACK: "approve it",
}
NOT_BY_WHOEVER_ASKED = frozenset({Action.APPROVE, Action.CONTINUE, Action.APPROVE_ROLLBACK})
"""A member of the approvers group who did not ask for what they decide on."""
ALSO_BY_THE_REQUESTER = frozenset({Action.REJECT, Action.ROLLBACK})
"""A member of the approvers group, or the requester (who may withdraw or undo)."""


def same_person(user: str, principal: str) -> bool:
    """``alice`` approving a request by ``User:alice`` is the requester approving.

    So is ``oidc:alice`` approving a request by ``oidc:alice``: Kubernetes user names may
    hold colons themselves, so the whole principal counts as well as the part after one.
    """
    name = user.strip().lower()
    whole = principal.strip().lower()
    return name in {whole, whole.split(":", 1)[-1].strip()}


def identity_refusal(
    action: Action, *, user: str, requester: str, approver: bool, name: str = ""
) -> str:
    """Why ``user`` may not take ``action`` on a request by ``requester``; empty when allowed.

    ``requester`` is who asked for what the action decides on: the change's requester, or
    for :attr:`Action.APPROVE_ROLLBACK` the person who asked for the rollback (the change's
    requester may approve that). ``approver`` says whether the user is in the approvers
    group; abort is for anyone allowed to update the request (RBAC decides). ``name``, when
    given, names the request in the sentence.
    """
    asked = same_person(user, requester)
    if action in NOT_BY_WHOEVER_ASKED:
        if asked:
            return f"{user} {_asked_for(action, name)} and may not {MAY_NOT[action]}"
        if not approver:
            return f"{user} is not in the approvers group and may not {MAY_NOT[action]}"
    if action in ALSO_BY_THE_REQUESTER and not (approver or asked):
        return (
            f"{user} is neither in the approvers group nor the requester and may not "
            f"{MAY_NOT[action]}"
        )
    return ""


def _asked_for(action: Action, name: str) -> str:
    if action is Action.APPROVE_ROLLBACK:
        return f"asked for the rollback of {name}" if name else "asked for this rollback"
    return f"requested {name or 'this change'}"


def phase_refusal(action: Action, phase: Phase, name: str) -> str:
    """Why ``action`` does not apply to a request in ``phase``; empty when it does."""
    allowed = PHASES[action]
    if phase in allowed:
        return ""
    names = ", ".join(sorted(p.value for p in allowed))
    return f"{name} is {phase.value}: {CAN_BE[action]} only when {names}"
