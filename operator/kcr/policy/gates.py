"""A request may add health checks to the cluster's ``defaultGates``, never weaken them.

The requester writes ``spec.rollout.gates``; if it could switch a default check off, the
person whose change is being guarded would decide how closely it is guarded. A consumer
progress check also needs a bake long enough to measure a reading rate in.
"""

from kcr.model import ClusterPolicy, ConsumerProgressGate, Rollout
from kcr.model.progress import MIN_PROGRESS_BAKE_SECONDS

_FIELD = "spec.rollout.gates"
_SWITCHES = {
    "no_offline_partitions": "noOfflinePartitions",
    "under_replicated_not_above_baseline": "underReplicatedNotAboveBaseline",
    "isr_at_least_min_insync": "isrAtLeastMinInsync",
    "manual": "manual",
}


def gate_violations(rollout: Rollout, policy: ClusterPolicy) -> list[str]:
    """One line per check the request turns off or loosens, naming the cluster's value."""
    requested = rollout.gates
    if requested is None:
        return bake_violations(rollout, policy)
    default = policy.default_gates
    found = bake_violations(rollout, policy)
    found += [
        f"{_FIELD}.{name}: false is weaker than the cluster policy's true "
        f"(policy.defaultGates.{name})"
        for attribute, name in _SWITCHES.items()
        if getattr(default, attribute) and not getattr(requested, attribute)
    ]
    found += _progress(requested.consumer_progress, default.consumer_progress)
    kept = {(gate.name, gate.query) for gate in requested.promql}
    found += [
        f"{_FIELD}.promql: drops the cluster policy's PromQL gate {gate.name!r}; keep it "
        "unchanged (policy.defaultGates.promql)"
        for gate in default.promql
        if (gate.name, gate.query) not in kept
    ]
    return found


def _progress(
    requested: ConsumerProgressGate | None, default: ConsumerProgressGate | None
) -> list[str]:
    if default is None:
        return []
    field = f"{_FIELD}.consumerProgress"
    policy = "policy.defaultGates.consumerProgress"
    if requested is None:
        return [f"{field}: unset turns the check off, weaker than the cluster policy's ({policy})"]
    found = [
        f"{field}.{name}: {mine} is weaker than the cluster policy's {theirs} ({policy}.{name})"
        for name, mine, theirs in (
            ("minPercent", requested.min_percent, default.min_percent),
            ("baselineSeconds", requested.baseline_seconds, default.baseline_seconds),
        )
        if mine < theirs
    ]
    found += [
        f"{field}.groups: drops the cluster policy's watched group {group!r} ({policy}.groups)"
        for group in default.groups
        if group not in requested.groups
    ]
    return found


def bake_violations(rollout: Rollout, policy: ClusterPolicy) -> list[str]:
    """The progress check compares reading rates over the bake: it needs a bake to measure."""
    gates = rollout.gates or policy.default_gates
    if gates.consumer_progress is None or rollout.bake_seconds >= MIN_PROGRESS_BAKE_SECONDS:
        return []
    where = (
        f"{_FIELD}.consumerProgress" if rollout.gates else "policy.defaultGates.consumerProgress"
    )
    return [
        f"spec.rollout.bakeSeconds: {rollout.bake_seconds} is shorter than the "
        f"{MIN_PROGRESS_BAKE_SECONDS}s the consumer progress check needs to measure how fast "
        f"groups read ({where})"
    ]
