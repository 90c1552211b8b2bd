"""A request's health gates may add checks to the cluster's defaultGates, never weaken them."""

from typing import Any

import pytest

from kcr.kinds.create_topic import CreateTopic
from kcr.model import ClusterPolicy, HealthGates, PromQLGate, Rollout
from kcr.plan import review_spec
from kcr.policy import gate_violations

from .examples import NOW, spec_of

LAG = PromQLGate(name="lag", query="kafka_lag > 1000")
STRICT = ClusterPolicy(default_gates=HealthGates(max_lag_growth=500, promql=[LAG], manual=True))


@pytest.mark.parametrize(
    ("gates", "expected"),
    [
        (None, []),
        ({"max_lag_growth": 500, "promql": [LAG], "manual": True}, []),
        (
            {
                "max_lag_growth": 100,
                "promql": [LAG, PromQLGate(name="x", query="up == 0")],
                "manual": True,
            },
            [],
        ),
        (
            {
                "no_offline_partitions": False,
                "max_lag_growth": 500,
                "promql": [LAG],
                "manual": True,
            },
            [
                "spec.rollout.gates.noOfflinePartitions: false is weaker than the cluster "
                "policy's true (policy.defaultGates.noOfflinePartitions)"
            ],
        ),
        (
            {"max_lag_growth": 500, "promql": [LAG]},
            [
                "spec.rollout.gates.manual: false is weaker than the cluster policy's true "
                "(policy.defaultGates.manual)"
            ],
        ),
        (
            {"max_lag_growth": 5000, "promql": [LAG], "manual": True},
            [
                "spec.rollout.gates.maxLagGrowth: 5000 is weaker than the cluster policy's 500 "
                "(policy.defaultGates.maxLagGrowth)"
            ],
        ),
        (
            {"promql": [LAG], "manual": True},
            [
                "spec.rollout.gates.maxLagGrowth: unset turns the lag check off, weaker than the "
                "cluster policy's 500 (policy.defaultGates.maxLagGrowth)"
            ],
        ),
        (
            {
                "max_lag_growth": 500,
                "manual": True,
                "promql": [PromQLGate(name="lag", query="vector(0) > 1")],
            },
            [
                "spec.rollout.gates.promql: drops the cluster policy's PromQL gate 'lag'; keep it "
                "unchanged (policy.defaultGates.promql)"
            ],
        ),
        (
            {
                "no_offline_partitions": False,
                "under_replicated_not_above_baseline": False,
                "isr_at_least_min_insync": False,
                "manual": False,
            },
            [
                "spec.rollout.gates.noOfflinePartitions: false",
                "spec.rollout.gates.underReplicatedNotAboveBaseline: false",
                "spec.rollout.gates.isrAtLeastMinInsync: false",
                "spec.rollout.gates.manual: false",
                "spec.rollout.gates.maxLagGrowth: unset",
                "spec.rollout.gates.promql: drops",
            ],
        ),
    ],
    ids=[
        "cluster-defaults",
        "same",
        "stricter",
        "offline-check-off",
        "manual-off",
        "looser-lag",
        "lag-check-off",
        "promql-rewritten",
        "everything-off",
    ],
)
def test_weaker_gates_are_violations_named_field_by_field(
    gates: dict[str, Any] | None, expected: list[str]
) -> None:
    rollout = Rollout(gates=None if gates is None else HealthGates(**gates))
    found = gate_violations(rollout, STRICT)
    assert len(found) == len(expected), found
    for line, start in zip(found, expected, strict=True):
        assert line.startswith(start), line


def test_a_cluster_without_checks_accepts_any_gates() -> None:
    quiet = ClusterPolicy(
        default_gates=HealthGates(
            no_offline_partitions=False,
            under_replicated_not_above_baseline=False,
            isr_at_least_min_insync=False,
        )
    )
    off = HealthGates(
        no_offline_partitions=False,
        under_replicated_not_above_baseline=False,
        isr_at_least_min_insync=False,
    )
    assert gate_violations(Rollout(gates=off), quiet) == []


def test_a_review_with_weaker_gates_is_invalid() -> None:
    spec = spec_of(
        CreateTopic(topic="orders", partitions=3, replication_factor=3),
        rollout=Rollout(gates=HealthGates(isr_at_least_min_insync=False)),
    )
    review = review_spec(spec, ClusterPolicy(), NOW)
    assert not review.valid
    assert review.violations == [
        "spec.rollout.gates.isrAtLeastMinInsync: false is weaker than the cluster policy's true "
        "(policy.defaultGates.isrAtLeastMinInsync)"
    ]
