"""A request may add health checks to the cluster's ``defaultGates``, never weaken them.

The requester writes ``spec.rollout.gates``; if it could switch a default check off, the
person whose change is being guarded would decide how closely it is guarded.
"""

from kcr.model import ClusterPolicy, HealthGates, Rollout

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
        return []
    default = policy.default_gates
    found = [
        f"{_FIELD}.{name}: false is weaker than the cluster policy's true "
        f"(policy.defaultGates.{name})"
        for attribute, name in _SWITCHES.items()
        if getattr(default, attribute) and not getattr(requested, attribute)
    ]
    found += _lag_growth(requested, default)
    kept = {(gate.name, gate.query) for gate in requested.promql}
    found += [
        f"{_FIELD}.promql: drops the cluster policy's PromQL gate {gate.name!r}; keep it "
        "unchanged (policy.defaultGates.promql)"
        for gate in default.promql
        if (gate.name, gate.query) not in kept
    ]
    return found


def _lag_growth(requested: HealthGates, default: HealthGates) -> list[str]:
    bound = default.max_lag_growth
    if bound is None:
        return []
    if requested.max_lag_growth is None:
        return [
            f"{_FIELD}.maxLagGrowth: unset turns the lag check off, weaker than the cluster "
            f"policy's {bound} (policy.defaultGates.maxLagGrowth)"
        ]
    if requested.max_lag_growth > bound:
        return [
            f"{_FIELD}.maxLagGrowth: {requested.max_lag_growth} is weaker than the cluster "
            f"policy's {bound} (policy.defaultGates.maxLagGrowth)"
        ]
    return []
