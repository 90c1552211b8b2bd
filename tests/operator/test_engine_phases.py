"""The phase machine, one transition at a time: table-driven, pure, no I/O."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import time, timedelta

import pytest
from engine_world import (
    World,
    approved,
    cluster_spec,
    failing,
    gated,
    replace_topic,
    request,
    reviewed,
)
from kcr_builders import T0, alter_config, create_topic, increase_partitions, topic

from kcr.engine import (
    Blocker,
    Finish,
    Next,
    RunStep,
    StepOutcome,
    TakeSnapshot,
    Wait,
)
from kcr.model import (
    ChangeWindow,
    FailurePolicy,
    HealthGates,
    KafkaChangeRequestSpec,
    Phase,
    PromQLGate,
    Rollout,
)

Setup = Callable[[World], None]


@dataclass
class Case:
    id: str
    spec: Callable[[], KafkaChangeRequestSpec]
    setup: Setup
    phase: Phase
    reason: str
    effect: type
    says: str = ""
    condition: str = "Ready"


def _missing_cluster(world: World) -> None:
    world.cluster = None


def _wrong_hash(world: World) -> None:
    reviewed(world)
    world.approve("bob", "carol", spec_hash="f" * 64)


def _requester(world: World) -> None:
    reviewed(world)
    world.approve("alice", "bob")


def _one_of_two(world: World) -> None:
    reviewed(world)
    world.approve("bob")


def _rejected(world: World) -> None:
    reviewed(world)
    world.annotate({"kcr.dev/rejected-by": "dave"})


def _aborted_before(world: World) -> None:
    approved(world)
    world.annotate({"kcr.dev/abort": "true"})


def _expired(world: World) -> None:
    reviewed(world)
    world.now = T0 + timedelta(days=7, seconds=1)


def _window_closed(world: World) -> None:
    window = ChangeWindow(days=["Sat"], start=time(1, 0), end=time(2, 0))
    world.cluster = cluster_spec(change_windows=[window])
    approved(world)


def _blocked(world: World) -> None:
    approved(world)
    world.blockers = (Blocker("team-a/other", Phase.EXECUTING, ("team-a/prod/topic/orders",)),)


def _stale(world: World) -> None:
    approved(world)
    world.live = replace_topic(world, topic("orders", 6))
    world.run()


def _gates_loosened_after_approval(world: World) -> None:
    approved(world)
    world.cluster = cluster_spec(default_gates=HealthGates(no_offline_partitions=False)).model_copy(
        update={"prometheus_url": "http://elsewhere:9090"}
    )


def _protected_while_awaiting(world: World) -> None:
    reviewed(world)
    world.approve("bob")
    world.cluster = cluster_spec(protected_topics=["orders"])


def _spec_changed(world: World) -> None:
    reviewed(world)
    changed = increase_partitions().model_copy(update={"reason": "edited after review"})
    world.resource = replace(world.resource, spec=changed)


def _plan_edited(world: World) -> None:
    approved(world)
    world.decide()  # TakeSnapshot
    status = world.status.model_copy(deep=True)
    assert status.plan is not None
    status.plan.stages[0].steps[0].description = "something else"
    status.plan.stages[0].steps[0].idempotence_key = "IncreasePartitions:topic/other:0"
    world.resource = world.resource.with_status(status)


def _running_step(world: World) -> None:
    approved(world)
    world.step_script = lambda _effect: None  # the operator stops mid-step
    world.run()
    world.step_script = None


def _retrying(world: World) -> None:
    approved(world)
    world.step_script = lambda e: StepOutcome(e.step.id, False, False, "broker down", T0, True)
    world.run(limit=6)


def _failed_first_step(world: World) -> None:
    approved(world)
    world.step_script = failing("refused")
    world.run()


def _gate_failed(world: World) -> None:
    approved(world)
    world.gate_passes = lambda _gate: False
    world.run()


def _abort_mid_execution(world: World) -> None:
    spec = alter_config("orders", "invoices").model_copy(
        update={"rollout": Rollout(bake_seconds=600)}
    )
    world.resource = replace(world.resource, spec=spec)
    approved(world)
    world.run(longest_wait=timedelta(seconds=60))  # baking after the canary
    world.annotate({"kcr.dev/abort": "true"})


def _manual_gate(world: World) -> None:
    world.resource = replace(world.resource, spec=gated(alter_config("orders", "invoices")))
    approved(world)
    world.run()


def _continue_other_stage(world: World) -> None:
    _manual_gate(world)
    world.annotate({"kcr.dev/continue": "batch-1"})


def _pause_policy(world: World) -> None:
    spec = alter_config("orders", "invoices").model_copy(
        update={"rollout": Rollout(on_failure=FailurePolicy.PAUSE, bake_seconds=0)}
    )
    world.resource = replace(world.resource, spec=spec)
    approved(world)
    world.step_script = failing("refused")
    world.run()


def _promql_without_prometheus(world: World) -> None:
    world.cluster = cluster_spec().model_copy(update={"prometheus_url": None})


def with_promql() -> KafkaChangeRequestSpec:
    gates = HealthGates(promql=[PromQLGate(name="lag", query="up == 0")])
    return create_topic().model_copy(update={"rollout": Rollout(gates=gates)})


CASES = [
    Case(
        "valid-draft-awaits-approval",
        create_topic,
        lambda w: None,
        Phase.AWAITING_APPROVAL,
        "Validated",
        Next,
        "approved-spec-hash=",
    ),
    Case(
        "cluster-missing-waits",
        create_topic,
        _missing_cluster,
        Phase.PENDING,
        "ClusterUnavailable",
        Wait,
        "KafkaCluster prod was not found",
    ),
    Case(
        "promql-without-prometheus-is-invalid",
        with_promql,
        _promql_without_prometheus,
        Phase.INVALID,
        "ValidationFailed",
        Finish,
        "has no spec.prometheusUrl",
    ),
    Case(
        "wrong-spec-hash-refused",
        increase_partitions,
        _wrong_hash,
        Phase.AWAITING_APPROVAL,
        "ApprovalRefused",
        Wait,
        "does not match status.specHash",
        condition="Approved",
    ),
    Case(
        "requester-refused",
        increase_partitions,
        _requester,
        Phase.AWAITING_APPROVAL,
        "ApprovalRefused",
        Wait,
        "alice requested this change",
        condition="Approved",
    ),
    Case(
        "too-few-approvers",
        increase_partitions,
        _one_of_two,
        Phase.AWAITING_APPROVAL,
        "InsufficientApprovals",
        Wait,
        "1 of 2 required",
        condition="Approved",
    ),
    Case(
        "rejected",
        increase_partitions,
        _rejected,
        Phase.REJECTED,
        "Rejected",
        Finish,
        "rejected by dave",
    ),
    Case(
        "aborted-before-execution",
        increase_partitions,
        _aborted_before,
        Phase.REJECTED,
        "Aborted",
        Finish,
        "nothing was changed",
    ),
    Case(
        "expired",
        increase_partitions,
        _expired,
        Phase.EXPIRED,
        "Expired",
        Finish,
        "approvalTtlSeconds=604800",
    ),
    Case(
        "spec-changed-is-reviewed-again",
        increase_partitions,
        _spec_changed,
        Phase.PENDING,
        "SpecChanged",
        Next,
        "earlier approvals no longer count",
    ),
    Case(
        "approved-reads-live-state",
        increase_partitions,
        approved,
        Phase.APPROVED,
        "Approved",
        TakeSnapshot,
    ),
    Case(
        "outside-change-window",
        increase_partitions,
        _window_closed,
        Phase.APPROVED,
        "OutsideChangeWindow",
        Wait,
        "outside every change window",
    ),
    Case(
        "blocked-by-active-change",
        increase_partitions,
        _blocked,
        Phase.APPROVED,
        "BlockedByActiveChange",
        Wait,
        "team-a/other (Executing) which changes topic orders",
    ),
    Case(
        "stale-plan",
        increase_partitions,
        _stale,
        Phase.STALE,
        "StalePlan",
        Finish,
        "partitions was 3 in spec.observed and is 6 now",
    ),
    Case(
        "edited-plan-never-runs",
        increase_partitions,
        _plan_edited,
        Phase.STALE,
        "PlanMismatch",
        Finish,
        "status.plan was edited",
    ),
    Case(
        "running-step-resumes",
        increase_partitions,
        _running_step,
        Phase.EXECUTING,
        "ExecutionStarted",
        RunStep,
    ),
    Case(
        "retriable-step-waits",
        increase_partitions,
        _retrying,
        Phase.EXECUTING,
        "StepRetrying",
        RunStep,
        "broker down",
    ),
    Case(
        "first-step-fails-nothing-to-undo",
        increase_partitions,
        _failed_first_step,
        Phase.FAILED,
        "StepFailed",
        Finish,
        "no step had completed",
    ),
    Case(
        "gate-fails-irreversible-stays",
        increase_partitions,
        _gate_failed,
        Phase.FAILED,
        "GateFailed",
        Finish,
        "cannot be removed",
    ),
    Case(
        "manual-gate-pauses",
        alter_config,
        _manual_gate,
        Phase.PAUSED,
        "AwaitingContinue",
        Wait,
        "kcr.dev/continue=canary",
    ),
    Case(
        "continue-for-another-stage-waits",
        alter_config,
        _continue_other_stage,
        Phase.PAUSED,
        "AwaitingContinue",
        Wait,
    ),
    Case(
        "abort-between-steps-rolls-back",
        alter_config,
        _abort_mid_execution,
        Phase.ROLLING_BACK,
        "Aborted",
        Next,
        "rolling back 1 step(s)",
    ),
    Case(
        "cluster-policy-edited-after-approval",
        increase_partitions,
        _gates_loosened_after_approval,
        Phase.AWAITING_APPROVAL,
        "ClusterPolicyChanged",
        Next,
        "KafkaCluster prod changed after review (spec.policy.defaultGates, spec.prometheusUrl)",
        condition="Approved",
    ),
    Case(
        "cluster-policy-edited-before-approval",
        increase_partitions,
        _protected_while_awaiting,
        Phase.AWAITING_APPROVAL,
        "ClusterPolicyChanged",
        Next,
        "(spec.policy.protectedTopics); earlier approvals no longer count",
        condition="Approved",
    ),
    Case(
        "pause-policy-pauses",
        alter_config,
        _pause_policy,
        Phase.PAUSED,
        "StepFailed",
        Wait,
        "rollout.onFailure=Pause",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_transition(case: Case) -> None:
    world = World(request(case.spec()))
    case.setup(world)
    transition = world.decide()
    condition = next(c for c in transition.status.conditions if c.type == case.condition)
    assert (transition.status.phase, condition.reason) == (case.phase, case.reason)
    assert isinstance(transition.effect, case.effect), transition.effect
    assert case.says in transition.status.message
    assert condition.observed_generation == 1


def test_a_cluster_policy_edit_after_approval_needs_approval_again() -> None:
    """A topic made protected after approval: CRITICAL now, and the approvals are void."""
    world = World(request(increase_partitions()))
    approved(world)
    assert world.status.approvals[0].cluster_policy_hash == world.status.cluster_policy.hash  # type: ignore[union-attr]
    world.cluster = cluster_spec(protected_topics=["orders"])
    world.decide()
    assert world.phase is Phase.AWAITING_APPROVAL
    assert str(world.status.risk) == "CRITICAL"
    assert world.status.approvals == []
    assert "kcr.dev/approved-by" not in world.resource.annotations
    assert world.run() is Phase.AWAITING_APPROVAL, "nothing runs on the old approvals"
    assert world.runs == []
    world.approve("bob", "carol")
    assert world.run() is Phase.SUCCEEDED


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        pytest.param(
            "retention.ms", "1e9", "must be a whole number of milliseconds", id="exponent"
        ),
        pytest.param("retention.bytes", "10GB", "must be a whole number of bytes", id="unit"),
        pytest.param("segment.ms", " 60000", "must be a whole number", id="whitespace"),
    ],
)
def test_an_observed_value_no_broker_reports_makes_the_request_invalid(
    key: str, value: str, rule: str
) -> None:
    """Not a crash retried for ever: the review names the field and the rule, once."""
    spec = alter_config()
    assert spec.observed is not None
    seen = spec.observed.topics[0]
    configs = {
        **seen.configs,
        key: seen.configs["retention.ms"].model_copy(update={"value": value}),
    }
    observed = spec.observed.model_copy(
        update={"topics": [seen.model_copy(update={"configs": configs})]}
    )
    world = World(request(spec.model_copy(update={"observed": observed})))
    transition = world.decide()
    assert isinstance(transition.effect, Finish)
    assert world.phase is Phase.INVALID
    assert f"spec.observed.topics[0].configs['{key}'].value: {rule}" in world.status.message
    assert repr(value) in world.status.message
