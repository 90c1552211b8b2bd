"""The rules a rollback after Succeeded must pass: its window, its review and its approvals.

Pure and free of phase moves, so the engine and the kubectl plugin read the same rules.
The person who asked for the rollback may not approve it; the change's requester may,
since they approve somebody else's write. Approvals count only for the review's hash.
"""

from datetime import datetime, timedelta

from kcr.engine.signals import ROLLBACK_APPROVED_HASH, Signals
from kcr.model import (
    ClusterPolicy,
    KafkaChangeRequestStatus,
    ObservedState,
    Phase,
    RollbackReview,
    Step,
    StepState,
)
from kcr.model.request import MAX_ROLLBACK_STEPS
from kcr.plan import all_steps, rollback_hash
from kcr.policy.approvals import ApprovalVerdict
from kcr.policy.authority import Action, identity_refusal
from kcr.policy.rollback_risk import assess_rollback

WINDOW_FIELD = "KafkaCluster spec.policy.rollbackWindowSeconds"


def succeeded_at(status: KafkaChangeRequestStatus) -> datetime | None:
    """When the change succeeded; from the history for requests that did not record it."""
    if status.succeeded_at is not None:
        return status.succeeded_at
    return next((h.at for h in status.history if h.phase is Phase.SUCCEEDED), None)


def window_problem(status: KafkaChangeRequestStatus, policy: ClusterPolicy, now: datetime) -> str:
    """Why a rollback may no longer start; empty while the policy's window is open."""
    window = policy.rollback_window_seconds
    if window is None:
        return ""
    since = succeeded_at(status)
    if since is None:
        return (
            f"{WINDOW_FIELD}={window} limits rollbacks, and the time the change succeeded "
            "is not recorded"
        )
    age = now - since
    if age <= timedelta(seconds=window):
        return ""
    return (
        f"the change succeeded at {since.isoformat()}, {int(age.total_seconds())}s ago; "
        f"{WINDOW_FIELD}={window} allows a rollback only within {window}s of success; "
        "draft the reverse change as a new request instead"
    )


def window_closes(status: KafkaChangeRequestStatus, policy: ClusterPolicy) -> datetime | None:
    since = succeeded_at(status)
    if policy.rollback_window_seconds is None or since is None:
        return None
    return since + timedelta(seconds=policy.rollback_window_seconds)


def undo_steps(status: KafkaChangeRequestStatus) -> list[Step]:
    """The rollback steps that reverse a forward step whose write reached Kafka."""
    plan = status.rollback_plan
    states = (StepState.SUCCEEDED, StepState.RUNNING)
    done = {s.id for s in all_steps(status.plan) if s.state in states} if status.plan else set()
    return [s for s in plan.steps if s.undoes in done] if plan else []


def review_rollback(
    status: KafkaChangeRequestStatus,
    live: ObservedState,
    policy: ClusterPolicy,
    requested_by: str,
    requested_at: datetime,
) -> RollbackReview:
    steps = undo_steps(status)
    assessment = assess_rollback(steps, live, policy)
    return RollbackReview(
        requested_by=requested_by,
        requested_at=requested_at,
        steps=[s.id for s in steps],
        risk=assessment.risk,
        risk_reasons=[*assessment.reasons, *assessment.irreversible][:MAX_ROLLBACK_STEPS],
        required_approvals=policy.approvals_for(assessment.risk),
        hash=rollback_hash(steps, assessment.risk, requested_by, requested_at),
    )


def rollback_verdict(review: RollbackReview, signals: Signals) -> ApprovalVerdict:
    required = review.required_approvals
    approvers = list(signals.rollback_approvers)
    if not approvers:
        return ApprovalVerdict(required=required)
    given = signals.rollback_approved_hash
    if given != review.hash:
        return ApprovalVerdict(
            required=required,
            refused=[
                f"{ROLLBACK_APPROVED_HASH} {(given or 'missing')[:12]} does not match "
                f"status.rollbackReview.hash {review.hash[:12]}: the approval was given for "
                "another rollback plan or request; review the current one and approve its hash"
            ],
        )
    # Group membership is the admission policy's to check, as for the change's approvals.
    verdicts = {
        user: identity_refusal(
            Action.APPROVE_ROLLBACK, user=user, requester=review.requested_by, approver=True
        )
        for user in approvers
    }
    refused = [reason for reason in verdicts.values() if reason]
    accepted = [user for user, reason in verdicts.items() if not reason]
    return ApprovalVerdict(accepted=accepted, refused=refused, required=required)
