"""Pure policy: risk, irreversibility, blast radius, approvals, limits, gates and change windows."""

from kcr.model import Assessment
from kcr.policy.approvals import ApprovalVerdict, evaluate_approvals
from kcr.policy.blast_radius import affected_topics, blast_radius
from kcr.policy.gates import gate_violations
from kcr.policy.limits import limit_violations
from kcr.policy.risk import assess
from kcr.policy.windows import WindowVerdict, change_window

__all__ = [
    "ApprovalVerdict",
    "Assessment",
    "WindowVerdict",
    "affected_topics",
    "assess",
    "blast_radius",
    "change_window",
    "evaluate_approvals",
    "gate_violations",
    "limit_violations",
]
