"""A request's health gates may add checks to the cluster's defaultGates, never weaken them."""

from typing import Any

import pytest
from pydantic import ValidationError

from kcr.kinds.create_topic import CreateTopic
from kcr.model import (
    ClusterPolicy,
    ConsumerProgressGate,
    HealthGates,
    PromQLGate,
    Rollout,
    explain,
)
from kcr.plan import review_spec
from kcr.policy import gate_violations

from .examples import NOW, spec_of

LAG = PromQLGate(name="lag", query="kafka_lag > 1000")
PROGRESS = ConsumerProgressGate(baseline_seconds=60, min_percent=50, groups=["invoicing"])
STRICT = ClusterPolicy(
    default_gates=HealthGates(consumer_progress=PROGRESS, promql=[LAG], manual=True)
)


def progress(**changes: Any) -> ConsumerProgressGate:
    return PROGRESS.model_copy(update=changes)


@pytest.mark.parametrize(
    ("gates", "expected"),
    [
        (None, []),
        ({"consumer_progress": PROGRESS, "promql": [LAG], "manual": True}, []),
        (
            {
                "consumer_progress": progress(
                    baseline_seconds=120, min_percent=80, groups=["invoicing", "audit"]
                ),
                "promql": [LAG, PromQLGate(name="x", query="up == 0")],
                "manual": True,
            },
            [],
        ),
        (
            {
                "no_offline_partitions": False,
                "consumer_progress": PROGRESS,
                "promql": [LAG],
                "manual": True,
            },
            [
                "spec.rollout.gates.noOfflinePartitions: false is weaker than the cluster "
                "policy's true (policy.defaultGates.noOfflinePartitions)"
            ],
        ),
        (
            {"consumer_progress": PROGRESS, "promql": [LAG]},
            [
                "spec.rollout.gates.manual: false is weaker than the cluster policy's true "
                "(policy.defaultGates.manual)"
            ],
        ),
        (
            {
                "consumer_progress": progress(min_percent=10, baseline_seconds=30, groups=[]),
                "promql": [LAG],
                "manual": True,
            },
            [
                "spec.rollout.gates.consumerProgress.minPercent: 10 is weaker than the cluster "
                "policy's 50 (policy.defaultGates.consumerProgress.minPercent)",
                "spec.rollout.gates.consumerProgress.baselineSeconds: 30 is weaker than the "
                "cluster policy's 60 (policy.defaultGates.consumerProgress.baselineSeconds)",
                "spec.rollout.gates.consumerProgress.groups: drops the cluster policy's watched "
                "group 'invoicing' (policy.defaultGates.consumerProgress.groups)",
            ],
        ),
        (
            {"promql": [LAG], "manual": True},
            [
                "spec.rollout.gates.consumerProgress: unset turns the check off, weaker than the "
                "cluster policy's (policy.defaultGates.consumerProgress)"
            ],
        ),
        (
            {
                "consumer_progress": PROGRESS,
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
                "spec.rollout.gates.consumerProgress: unset",
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
        "looser-progress",
        "progress-check-off",
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


@pytest.mark.parametrize(
    ("rollout", "policy", "expected"),
    [
        (Rollout(bake_seconds=30), STRICT, []),
        (
            Rollout(bake_seconds=2),
            STRICT,
            [
                "spec.rollout.bakeSeconds: 2 is shorter than the 5s the consumer progress check "
                "needs to measure how fast groups read (policy.defaultGates.consumerProgress)"
            ],
        ),
        (
            Rollout(bake_seconds=0, gates=HealthGates(consumer_progress=PROGRESS)),
            ClusterPolicy(),
            [
                "spec.rollout.bakeSeconds: 0 is shorter than the 5s the consumer progress check "
                "needs to measure how fast groups read (spec.rollout.gates.consumerProgress)"
            ],
        ),
        (Rollout(bake_seconds=0), ClusterPolicy(), []),
    ],
    ids=["long-enough", "cluster-check-short-bake", "own-check-no-bake", "no-check"],
)
def test_a_progress_check_needs_a_bake_to_measure_in(
    rollout: Rollout, policy: ClusterPolicy, expected: list[str]
) -> None:
    assert gate_violations(rollout, policy) == expected


@pytest.mark.parametrize(
    ("gates", "error"),
    [
        (
            {"consumerProgress": {"baselineSeconds": 1}},
            "consumerProgress.baselineSeconds: must be at least 5, got 1",
        ),
        (
            {"consumerProgress": {"minPercent": 0}},
            "consumerProgress.minPercent: must be at least 1",
        ),
        (
            {"consumerProgress": {"minPercent": 101}},
            "consumerProgress.minPercent: must be at most 100",
        ),
        (
            {"consumerProgress": {"groups": [""]}},
            "consumerProgress.groups[0]: consumer group id must not be empty",
        ),
        ({"maxLagGrowth": 1000}, "maxLagGrowth: is not a field here"),
    ],
    ids=["baseline-too-short", "no-share", "over-100", "empty-group", "the-old-lag-bound"],
)
def test_progress_settings_are_checked_naming_field_and_rule(
    gates: dict[str, Any], error: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        HealthGates.model_validate(gates)
    assert any(line.startswith(error) for line in explain(raised.value)), explain(raised.value)
