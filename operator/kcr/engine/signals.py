"""What people say to a change request through its annotations, read once and typed.

Annotations are the only way a person steers a request after it is created: ``spec`` is
immutable and ``status`` belongs to the operator. The operator removes ``continue``,
``abort`` and ``rollback`` once it has acted on them, so one annotation is one decision;
the rollback's asker and approvals go when the rollback starts or is refused, so an
approval given for one rollback request never counts for another.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from kcr.policy.approvals import parse_approvers
from kcr.policy.signatures import SIGNATURES_ANNOTATION

PREFIX = "kcr.dev/"
APPROVED_BY = f"{PREFIX}approved-by"
APPROVED_SPEC_HASH = f"{PREFIX}approved-spec-hash"
REJECTED_BY = f"{PREFIX}rejected-by"
CONTINUE = f"{PREFIX}continue"
ABORT = f"{PREFIX}abort"
ROLLBACK = f"{PREFIX}rollback"
ROLLBACK_REQUESTED = "requested"
APPROVAL_SIGNATURES = SIGNATURES_ANNOTATION
ROLLBACK_REQUESTED_BY = f"{PREFIX}rollback-requested-by"
ROLLBACK_APPROVED_BY = f"{PREFIX}rollback-approved-by"
ROLLBACK_APPROVED_HASH = f"{PREFIX}rollback-approved-hash"
ROLLBACK_REVIEW = (ROLLBACK, ROLLBACK_REQUESTED_BY, ROLLBACK_APPROVED_BY, ROLLBACK_APPROVED_HASH)

_FALSE = {"", "false", "no", "0"}


@dataclass(frozen=True)
class Signals:
    approvers: tuple[str, ...] = ()
    approved_spec_hash: str | None = None
    signed_approvals: str = ""
    """The raw ``approval-signatures`` annotation: parsed and verified by the engine."""
    rejected_by: str = ""
    continue_stage: str = ""
    """The stage whose gate (or failed step) the person releases; empty when none."""
    abort: bool = False
    rollback_requested: bool = False
    rollback_requested_by: str = ""
    """Who asked for the rollback; the admission policy holds it to the asking user."""
    rollback_approvers: tuple[str, ...] = ()
    rollback_approved_hash: str | None = None


def read_signals(annotations: Mapping[str, str]) -> Signals:
    return Signals(
        approvers=tuple(parse_approvers(annotations.get(APPROVED_BY))),
        approved_spec_hash=(annotations.get(APPROVED_SPEC_HASH) or "").strip() or None,
        signed_approvals=(annotations.get(APPROVAL_SIGNATURES) or "").strip(),
        rejected_by=(annotations.get(REJECTED_BY) or "").strip(),
        continue_stage=(annotations.get(CONTINUE) or "").strip(),
        abort=(annotations.get(ABORT) or "").strip().lower() not in _FALSE,
        rollback_requested=(annotations.get(ROLLBACK) or "").strip().lower() == ROLLBACK_REQUESTED,
        rollback_requested_by=(annotations.get(ROLLBACK_REQUESTED_BY) or "").strip(),
        rollback_approvers=tuple(parse_approvers(annotations.get(ROLLBACK_APPROVED_BY))),
        rollback_approved_hash=(annotations.get(ROLLBACK_APPROVED_HASH) or "").strip() or None,
    )
