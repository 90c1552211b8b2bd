"""The annotations a person writes on a KafkaChangeRequest, computed without I/O.

Every function returns the ``metadata.annotations`` part of a JSON merge patch (a value of
``None`` removes the key) or raises :class:`RefusedError` with a sentence saying why, so the
refusal is explained before the API server's admission policy has to say no.
"""

from collections.abc import Callable
from dataclasses import dataclass

from kcr.engine.signals import (
    ABORT,
    APPROVAL_SIGNATURES,
    APPROVED_BY,
    APPROVED_SPEC_HASH,
    CONTINUE,
    REJECTED_BY,
    ROLLBACK,
    ROLLBACK_APPROVED_BY,
    ROLLBACK_APPROVED_HASH,
    ROLLBACK_REQUESTED,
    ROLLBACK_REQUESTED_BY,
)
from kcr.model import KafkaChangeRequestStatus, Phase, RollbackReview, StepState
from kcr.plan import rollback_hash
from kcr.policy.approvals import parse_approvers
from kcr.policy.authority import Action, identity_refusal, phase_refusal
from kcr.policy.signatures import (
    SignatureFormatError,
    SignedApproval,
    dump_signed_approvals,
    parse_signed_approvals,
)

__all__ = [
    "ABORT",
    "APPROVAL_SIGNATURES",
    "APPROVED_BY",
    "APPROVED_SPEC_HASH",
    "CONTINUE",
    "REJECTED_BY",
    "ROLLBACK",
    "ROLLBACK_APPROVED_BY",
    "ROLLBACK_APPROVED_HASH",
    "Patch",
    "RefusedError",
    "Request",
]

Patch = dict[str, str | None]


class RefusedError(Exception):
    """The action does not apply to this request; the message says why in plain words."""


@dataclass(frozen=True)
class Request:
    """What the annotation rules need to know about one KafkaChangeRequest."""

    name: str
    requester: str
    spec_hash: str
    annotations: dict[str, str]
    status: KafkaChangeRequestStatus | None

    @property
    def phase(self) -> Phase:
        return self.status.phase if self.status is not None else Phase.PENDING


def approve(request: Request, user: str) -> Patch:
    """Append ``user`` to the approvers and bind the approval to the spec hash."""
    _require(request, Action.APPROVE, user, request.requester)
    status_hash = request.status.spec_hash if request.status is not None else None
    if status_hash and status_hash != request.spec_hash:
        raise RefusedError(
            f"the operator hashed the spec of {request.name} as {status_hash[:12]}, this "
            f"kubectl-kcr computes {request.spec_hash[:12]}: their versions differ; use the "
            "kubectl-kcr of the operator's version"
        )
    approvers = parse_approvers(request.annotations.get(APPROVED_BY))
    if user in approvers:
        raise RefusedError(f"{user} has already approved {request.name}")
    approved_hash = request.annotations.get(APPROVED_SPEC_HASH)
    if approvers and approved_hash and approved_hash != request.spec_hash:
        raise RefusedError(
            f"{', '.join(approvers)} approved spec hash {approved_hash[:12]}, but the spec "
            f"hashes to {request.spec_hash[:12]}: those approvals must be removed and given "
            "again before another can be added"
        )
    return {APPROVED_BY: ",".join([*approvers, user]), APPROVED_SPEC_HASH: request.spec_hash}


def sign_approval(request: Request, user: str, sign: Callable[[str], str]) -> Patch:
    """Append ``user``'s SSH signature over the spec hash (an approval carried in git).

    Every refusal is decided before ``sign`` is called, so nobody types a passphrase or
    touches a hardware key for an approval that would not count.
    """
    _require(request, Action.APPROVE, user, request.requester)
    current = request.annotations.get(APPROVAL_SIGNATURES)
    try:
        signed = parse_signed_approvals(current) if current else []
    except SignatureFormatError as error:
        raise RefusedError(f"{request.name}: {error}; fix or remove it first") from None
    if any(approval.approver == user for approval in signed):
        raise RefusedError(f"{user} has already signed an approval of {request.name}")
    approval = SignedApproval(approver=user, signature=sign(request.spec_hash))
    return {APPROVAL_SIGNATURES: dump_signed_approvals([*signed, approval])}


def reject(request: Request, user: str) -> Patch:
    """Record ``user`` as rejecting; the operator moves the request to ``Rejected``."""
    _require(request, Action.REJECT, user, request.requester)
    rejecters = parse_approvers(request.annotations.get(REJECTED_BY))
    if user in rejecters:
        raise RefusedError(f"{user} has already rejected {request.name}")
    return {REJECTED_BY: ",".join([*rejecters, user])}


def continue_stage(request: Request, user: str) -> Patch:
    """Release the manual gate the request is paused at; like an approval, never by the
    requester (the admission policy refuses it too)."""
    _require(request, Action.CONTINUE, user, request.requester)
    stage = _waiting_stage(request)
    if stage is None:
        raise RefusedError(f"{request.name} is not waiting at a manual gate")
    return {CONTINUE: stage}


def abort(request: Request) -> Patch:
    """Stop before the next step; what already ran stays as it is until a rollback."""
    _require(request, Action.ABORT)
    return {ABORT: "true"}


def rollback(request: Request, user: str) -> Patch:
    """Ask for the rollback plan to run, as ``user``. After Succeeded the operator shows it
    for review, and someone other than ``user`` approves it (see :func:`approve_rollback`)."""
    _require(request, Action.ROLLBACK, user, request.requester)
    plan = request.status.rollback_plan if request.status is not None else None
    if plan is not None and not plan.steps:
        raise RefusedError(
            f"{request.name} has no rollback steps: "
            + "; ".join(plan.irreversible_reasons or ["none planned"])
        )
    return {ROLLBACK: ROLLBACK_REQUESTED, ROLLBACK_REQUESTED_BY: user}


def approve_rollback(request: Request, user: str) -> Patch:
    """Append ``user`` to the rollback's approvers, bound to the hash of its review."""
    _require(request, Action.APPROVE_ROLLBACK)
    assert request.status is not None  # a phase was read from it
    review = request.status.rollback_review
    if review is None:
        raise RefusedError(f"{request.name} shows no rollback review in status.rollbackReview")
    _require(request, Action.APPROVE_ROLLBACK, user, review.requested_by)
    if _review_hash(request.status, review) != review.hash:
        raise RefusedError(
            f"status.rollbackReview.hash of {request.name} is not the hash of the steps it "
            "lists: it was not written by this version of kcr; nothing was approved"
        )
    approvers = parse_approvers(request.annotations.get(ROLLBACK_APPROVED_BY))
    if user in approvers:
        raise RefusedError(f"{user} has already approved the rollback of {request.name}")
    approved_hash = request.annotations.get(ROLLBACK_APPROVED_HASH)
    if approvers and approved_hash and approved_hash != review.hash:
        raise RefusedError(
            f"{', '.join(approvers)} approved rollback hash {approved_hash[:12]}, but the "
            f"review shows {review.hash[:12]}: those approvals must be removed and given "
            "again before another can be added"
        )
    return {ROLLBACK_APPROVED_BY: ",".join([*approvers, user]), ROLLBACK_APPROVED_HASH: review.hash}


def _review_hash(status: KafkaChangeRequestStatus, review: RollbackReview) -> str:
    plan = status.rollback_plan
    steps = [s for s in (plan.steps if plan else []) if s.id in review.steps]
    return rollback_hash(steps, review.risk, review.requested_by, review.requested_at)


def _waiting_stage(request: Request) -> str | None:
    """The stage the request waits in: the first whose gate has not passed (its manual gate,
    or a failed step when the request pauses on failure)."""
    if request.status is None or request.status.plan is None:
        return None
    done = {StepState.SUCCEEDED, StepState.SKIPPED}
    return next((s.name for s in request.status.plan.stages if s.gate_state not in done), None)


def _require(request: Request, action: Action, user: str = "", requester: str = "") -> None:
    """The rules of :mod:`kcr.policy.authority`: the phase, then (given ``user``) who.

    Whether the user is in the approvers group is the API server's to say (the plugin does
    not know the group's name); everything else is refused here, in the same words.
    """
    refusal = phase_refusal(action, request.phase, request.name)
    if not refusal and user:
        refusal = identity_refusal(
            action, user=user, requester=requester, approver=True, name=request.name
        )
    if refusal:
        raise RefusedError(refusal)
