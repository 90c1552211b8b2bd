"""What people say to a change request through its annotations, read once and typed.

Annotations are the only way a person steers a request after it is created: ``spec`` is
immutable and ``status`` belongs to the operator. The operator removes ``continue``,
``abort`` and ``rollback`` once it has acted on them, so one annotation is one decision.
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


def read_signals(annotations: Mapping[str, str]) -> Signals:
    return Signals(
        approvers=tuple(parse_approvers(annotations.get(APPROVED_BY))),
        approved_spec_hash=(annotations.get(APPROVED_SPEC_HASH) or "").strip() or None,
        signed_approvals=(annotations.get(APPROVAL_SIGNATURES) or "").strip(),
        rejected_by=(annotations.get(REJECTED_BY) or "").strip(),
        continue_stage=(annotations.get(CONTINUE) or "").strip(),
        abort=(annotations.get(ABORT) or "").strip().lower() not in _FALSE,
        rollback_requested=(annotations.get(ROLLBACK) or "").strip().lower() == ROLLBACK_REQUESTED,
    )
