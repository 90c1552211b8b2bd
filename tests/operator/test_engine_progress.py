"""The consumer progress gate: judged against a baseline measured before the first write.

A traffic peak during the bake raises lag but does not slow a healthy consumer, so a
benign change stays; a change that stops a consumer while records wait is rolled back.
Time is the world's own clock; consumers are simulated groups (``consumer_flows``).
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from consumer_flows import Flow, Reader
from engine_world import World, approved, cluster_spec, request
from kcr_builders import T0, alter_config, create_topic, reset_offsets

from kcr.engine import DeploymentLabels, ProgressCheck, Reason, SampleProgress
from kcr.engine.progress import judge
from kcr.model import (
    ConsumerPositions,
    ConsumerProgressGate,
    GroupPosition,
    HealthGates,
    KafkaChangeRequestSpec,
    Phase,
    ProgressVerdict,
    Rollout,
    StepState,
)

GATE = ConsumerProgressGate(baseline_seconds=30, min_percent=50)


def gated(
    spec: KafkaChangeRequestSpec, gate: ConsumerProgressGate = GATE
) -> KafkaChangeRequestSpec:
    rollout = Rollout(bake_seconds=60, gates=HealthGates(consumer_progress=gate))
    return spec.model_copy(update={"rollout": rollout})


def reading_orders(*groups: str) -> KafkaChangeRequestSpec:
    """A retention change on ``orders``, drafted while ``groups`` consumed it."""
    spec = alter_config("orders")
    observed = spec.observed.model_copy(update={"consumers_of_topics": list(groups)})  # type: ignore[union-attr]
    return gated(spec.model_copy(update={"observed": observed}))


def executed(spec: KafkaChangeRequestSpec, flow: Flow) -> World:
    world = World(request(spec), consumers=flow)
    approved(world)
    world.run()
    return world


def verdicts(world: World) -> dict[str, ProgressVerdict]:
    (stage,) = world.status.plan.stages  # type: ignore[union-attr]
    return {p.group: p.verdict for p in stage.progress}


def test_a_benign_change_during_a_traffic_peak_is_not_rolled_back() -> None:
    flow = Flow(arriving=10, changed_arriving=400, readers=[Reader("billing", per_second=300)])
    world = executed(reading_orders("billing"), flow)

    assert world.phase is Phase.SUCCEEDED, world.status.message
    (stage,) = world.status.plan.stages  # type: ignore[union-attr]
    (billing,) = stage.progress
    assert billing.verdict is ProgressVerdict.PASSED
    assert billing.bake is not None
    assert billing.baseline is not None
    assert billing.bake.lag_at_end > billing.bake.lag_at_start + 5000  # the peak outran it
    assert billing.bake.rate > 250 > 10 >= billing.baseline.rate - 0.5
    assert "ConsumerProgress: ok (billing read 300.0/s over the 60s bake" in stage.gate_result


def test_a_change_that_stops_a_live_consumer_is_rolled_back_by_the_gate() -> None:
    flow = Flow(arriving=20, readers=[Reader("billing", per_second=100, changed_per_second=0)])
    world = executed(reading_orders("billing"), flow)

    assert world.phase is Phase.ROLLED_BACK, world.status.message
    (stage,) = world.status.plan.stages  # type: ignore[union-attr]
    assert stage.gate_state is StepState.FAILED
    (billing,) = stage.progress
    assert billing.verdict is ProgressVerdict.FAILED
    assert billing.baseline is not None
    assert billing.bake is not None
    assert billing.baseline.seconds == pytest.approx(30, abs=0.1)
    assert billing.bake.seconds == pytest.approx(60, abs=0.1)
    assert billing.baseline.consumed == 600
    assert billing.bake.consumed == 0
    assert billing.message == (
        "billing read 0.0/s over the 60s bake (0 of 1200 waiting), 20.0/s in the 30s before "
        "the change: below 50% of its baseline"
    )
    failed = next(h for h in world.status.history if h.reason == Reason.GATE_FAILED)
    assert "ConsumerProgress: FAILED (billing read 0.0/s over the 60s bake" in failed.message
    assert [w for w in world.writes] == [
        ("alter-config-orders", False),
        ("undo-alter-config-orders", True),
    ]


def test_the_baseline_is_read_before_the_first_write_and_recorded() -> None:
    flow = Flow(arriving=20, readers=[Reader("billing", per_second=100)])
    world = executed(reading_orders("billing"), flow)

    (before_write, *_) = world.run_statuses
    baseline = before_write.baseline
    assert baseline is not None
    first, last = baseline.consumer_positions
    assert timedelta(seconds=30) <= last.observed_at - first.observed_at < timedelta(seconds=31)
    assert world.runs[0].step.id == "alter-config-orders"
    assert flow.readings[:2] == [first.observed_at, last.observed_at]
    reasons = [c.reason for t in world.transitions for c in t.status.conditions]
    assert Reason.MEASURING_BASELINE in reasons
    assert Reason.BASELINE_MEASURED in reasons
    notes = [e.message for t in world.transitions for e in t.events]
    assert "before the first write: billing read 20.0/s over 30s (lag 0)" in notes


def test_a_group_that_read_nothing_before_the_change_is_not_judged() -> None:
    """The demo's stalled group: its lag grows through the bake, but not by the change."""
    flow = Flow(
        arriving=20,
        backlog=5000,
        changed_arriving=300,
        readers=[Reader("fulfilment", per_second=0), Reader("billing", per_second=500)],
    )
    world = executed(reading_orders("billing", "fulfilment"), flow)

    assert world.phase is Phase.SUCCEEDED, world.status.message
    assert verdicts(world) == {
        "billing": ProgressVerdict.PASSED,
        "fulfilment": ProgressVerdict.NOT_JUDGED,
    }
    assert "fulfilment not judged: it read nothing in the 30s before the change" in (
        world.status.plan.stages[0].gate_result  # type: ignore[union-attr]
    )


def test_a_group_with_nothing_left_to_read_passes_when_its_rate_falls() -> None:
    """A consumer draining a backlog at 500/s catches up during the bake and then reads only
    what arrives: its rate falls far below the baseline, and that is no harm."""
    flow = Flow(arriving=5, backlog=20_000, readers=[Reader("billing", per_second=500)])
    world = executed(reading_orders("billing"), flow)

    assert world.phase is Phase.SUCCEEDED, world.status.message
    (stage,) = world.status.plan.stages  # type: ignore[union-attr]
    (billing,) = stage.progress
    assert billing.bake is not None
    assert billing.bake.lag_at_end == 0
    assert billing.bake.rate < 250


def test_a_group_the_gate_names_is_judged_though_the_change_does_not_touch_it() -> None:
    """A new topic joins a pattern subscription: the group is not in the blast radius."""
    gate = ConsumerProgressGate(baseline_seconds=30, groups=["invoicing"])
    flow = Flow(arriving=20, readers=[Reader("invoicing", per_second=50, changed_per_second=0)])
    world = executed(gated(create_topic("orders.dlq"), gate), flow)

    assert world.phase is Phase.ROLLED_BACK, world.status.message
    assert verdicts(world) == {"invoicing": ProgressVerdict.FAILED}


def test_a_group_that_never_committed_is_not_judged() -> None:
    flow = Flow(arriving=20, readers=[Reader("billing", per_second=100, commits=False)])
    world = executed(reading_orders("billing"), flow)

    assert world.phase is Phase.SUCCEEDED, world.status.message
    assert verdicts(world) == {"billing": ProgressVerdict.NOT_JUDGED}


def test_the_cluster_default_gate_applies_when_the_request_names_none() -> None:
    spec = reading_orders("billing").model_copy(update={"rollout": Rollout(bake_seconds=60)})
    flow = Flow(arriving=20, readers=[Reader("billing", per_second=100, changed_per_second=0)])
    world = World(
        request(spec),
        consumers=flow,
        cluster=cluster_spec(default_gates=HealthGates(consumer_progress=GATE)),
    )
    approved(world)

    assert world.run() is Phase.ROLLED_BACK, world.status.message


def test_no_baseline_is_measured_without_the_check() -> None:
    spec = reading_orders("billing").model_copy(update={"rollout": Rollout(bake_seconds=0)})
    world = World(request(spec))
    approved(world)

    assert world.run() is Phase.SUCCEEDED
    effects = [t.effect for t in world.transitions]
    assert not any(isinstance(e, SampleProgress) for e in effects)
    assert world.status.baseline is not None
    assert world.status.baseline.consumer_positions == []


def test_an_abort_during_the_baseline_writes_nothing() -> None:
    flow = Flow(arriving=20, readers=[Reader("billing", per_second=100)])
    world = World(request(reading_orders("billing")), consumers=flow)
    approved(world)
    world.run(longest_wait=timedelta(seconds=1))  # waits inside the baseline window
    assert world.phase is Phase.EXECUTING
    assert len(world.status.baseline.consumer_positions) == 1  # type: ignore[union-attr]

    world.annotate({"kcr.dev/abort": "true"})
    world.run()

    assert world.phase is Phase.FAILED
    assert world.status.message == (
        "stopped with kcr.dev/abort; nothing to roll back: no step had completed, so nothing "
        "was changed"
    )
    assert world.writes == []
    assert world.runs == []


def test_a_reset_judges_its_group_only_once_its_consumers_run_again() -> None:
    spec = reset_offsets(deployment=True).model_copy(update={"rollout": Rollout(bake_seconds=20)})
    flow = Flow(arriving=20, readers=[Reader("billing", per_second=100)])
    labels = DeploymentLabels({"kcr.dev/consumer-group": "billing"})
    world = World(request(spec), consumers=flow, scaled=labels)
    approved(world)

    assert world.run() is Phase.SUCCEEDED, world.status.message
    quiesce, apply, resume = world.status.plan.stages  # type: ignore[union-attr]
    assert (quiesce.progress, apply.progress) == ([], [])
    (billing,) = resume.progress
    assert billing.verdict is ProgressVerdict.PASSED
    assert billing.baseline is not None  # measured with the default gate:
    assert billing.baseline.seconds == pytest.approx(60, abs=0.1)


def positions(at_seconds: float, **groups: tuple[int, int]) -> ConsumerPositions:
    return ConsumerPositions(
        observed_at=T0 + timedelta(seconds=at_seconds),
        groups=[
            GroupPosition(group=g, committed=c, log_end=e, partitions=3)
            for g, (c, e) in groups.items()
        ],
    )


@dataclass(frozen=True)
class Judged:
    """A group's readings: before (0 s, 30 s), bake start (40 s) and gate (100 s)."""

    before: tuple[tuple[int, int], tuple[int, int]] | None
    bake: tuple[tuple[int, int], tuple[int, int] | None]
    verdict: ProgressVerdict
    words: str


JUDGED = {
    "keeps-its-rate": Judged(
        ((0, 0), (300, 300)), ((400, 400), (1000, 1100)), ProgressVerdict.PASSED, "read 10.0/s"
    ),
    "half-its-rate-is-enough": Judged(
        ((0, 0), (300, 300)), ((400, 400), (700, 1000)), ProgressVerdict.PASSED, "5.0/s"
    ),
    "below-half": Judged(
        ((0, 0), (300, 300)),
        ((400, 400), (690, 1000)),
        ProgressVerdict.FAILED,
        "read 4.8/s over the 60s bake (290 of 600 waiting), 10.0/s in the 30s before the "
        "change: below 50% of its baseline",
    ),
    "stopped-with-a-backlog": Judged(
        ((0, 900), (300, 1200)), ((400, 1300), (400, 1300)), ProgressVerdict.FAILED, "0.0/s"
    ),
    "nothing-arrived": Judged(
        ((0, 0), (300, 300)), ((400, 400), (400, 400)), ProgressVerdict.PASSED, "(0 of 0 waiting)"
    ),
    "read-nothing-before": Judged(
        ((0, 900), (0, 1200)), ((0, 1300), (0, 2000)), ProgressVerdict.NOT_JUDGED, "no rate to keep"
    ),
    "no-commits-before": Judged(
        None, ((400, 400), (500, 500)), ProgressVerdict.NOT_JUDGED, "no committed offsets before"
    ),
    "offsets-gone": Judged(
        ((0, 0), (300, 300)), ((400, 400), None), ProgressVerdict.NOT_JUDGED, "are gone"
    ),
    "offsets-moved-back": Judged(
        ((0, 0), (300, 300)), ((400, 400), (10, 500)), ProgressVerdict.NOT_JUDGED, "moved back"
    ),
}


@pytest.mark.parametrize("case", JUDGED.values(), ids=JUDGED.keys())
def test_judge(case: Judged) -> None:
    before = case.before or ((0, 0), (0, 0))
    baseline = (
        positions(0, **({"g": before[0]} if case.before else {})),
        positions(30, **({"g": before[1]} if case.before else {})),
    )
    start, end = case.bake
    check = ProgressCheck(GATE, ("g",), baseline, positions(40, g=start))
    result, (verdict,) = judge(check, positions(100, **({"g": end} if end else {})))

    assert verdict.verdict is case.verdict
    assert case.words in verdict.message
    assert result.passed is (case.verdict is not ProgressVerdict.FAILED)
    assert verdict.message in result.message


def test_judge_without_a_baseline_judges_nobody() -> None:
    check = ProgressCheck(GATE, ("g",), (), positions(40, g=(0, 0)))
    result, (verdict,) = judge(check, positions(100, g=(0, 100)))

    assert (result.passed, verdict.verdict) == (True, ProgressVerdict.NOT_JUDGED)
    assert "no baseline was measured" in verdict.message


def test_judge_names_the_failed_groups_first() -> None:
    baseline = (positions(0, a=(0, 0), b=(0, 0)), positions(30, a=(300, 300), b=(300, 300)))
    check = ProgressCheck(GATE, ("a", "b"), baseline, positions(40, a=(400, 400), b=(400, 400)))
    result, found = judge(check, positions(100, a=(1000, 1000), b=(400, 1000)))

    assert [v.verdict for v in found] == [ProgressVerdict.PASSED, ProgressVerdict.FAILED]
    assert result.message.startswith("b read 0.0/s")
    assert "a read" not in result.message
