"""Risk is computed here from the change and the cluster policy, never taken from a draft.

LOW: reversible, no effect on live data flow. MEDIUM: reversible, touches live traffic.
HIGH: irreversible or data-affecting. CRITICAL: topic deletion or a protected topic.
Each kind weighs its own change (:mod:`kcr.kinds`); a protected topic makes any CRITICAL.
"""

from kcr.model import Assessment, Change, ClusterPolicy, ObservedState


def assess(change: Change, observed: ObservedState | None, policy: ClusterPolicy) -> Assessment:
    return change.kind.assess(change.member, observed, policy)
