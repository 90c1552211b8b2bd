"""Longer runs of the phase machine: retries, manual gates, rollbacks, resumes."""

from dataclasses import replace
from datetime import timedelta

from engine_world import (
    World,
    approved,
    failing,
    gated,
    replace_topic,
    request,
    reviewed,
    rollback_approved,
)
from kcr_builders import (
    T0,
    alter_config,
    increase_partitions,
    reset_offsets,
    spec_of,
    state,
    topic,
)

from kcr.engine import (
    Blocker,
    ChangeRequestView,
    CheckGate,
    CheckResult,
    EngineSettings,
    Finish,
    GateCheck,
    StepOutcome,
    claims,
    describe_claim,
)
from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.model import (
    AclBinding,
    ConsumerProgressGate,
    FailurePolicy,
    HealthGates,
    KafkaChangeRequestSpec,
    Phase,
    Rollout,
    StepState,
)

BLOCKER = Blocker("team-a/other", Phase.EXECUTING, ("team-a/prod/topic/orders",))


def paused_on_failure(world: World) -> None:
    spec = alter_config("orders", "invoices").model_copy(
        update={"rollout": Rollout(on_failure=FailurePolicy.PAUSE, bake_seconds=0)}
    )
    world.resource = replace(world.resource, spec=spec)
    approved(world)
    world.step_script = failing("refused")
    world.run()


def rejected(world: World) -> None:
    reviewed(world)
    world.annotate({"kcr.dev/rejected-by": "dave"})


def test_invalid_spec_is_reported_with_every_reason() -> None:
    resource = ChangeRequestView.from_body(
        {
            "metadata": {"name": "bad", "namespace": "team-a", "generation": 3},
            "spec": {"cluster": "prod", "change": {"type": "DeleteTopic"}, "reason": ""},
        }
    )
    transition = World(resource).decide()
    assert transition.status.phase is Phase.INVALID
    assert "spec.requestedBy: is required" in transition.status.message
    assert "spec.reason: must be at least 1 characters" in transition.status.message
    assert "needs exactly the member 'deleteTopic'" in transition.status.message
    assert {c.observed_generation for c in transition.status.conditions} == {3}


def test_approval_records_spec_and_plan_hash() -> None:
    world = World(request(increase_partitions()))
    approved(world)
    status = world.status
    assert status.plan is not None
    assert [(a.user, a.spec_hash, a.plan_hash) for a in status.approvals] == [
        ("bob", status.spec_hash, status.plan.hash),
        ("carol", status.spec_hash, status.plan.hash),
    ]


def test_refusal_posts_one_event_however_often_it_is_decided() -> None:
    world = World(request(increase_partitions()))
    reviewed(world)
    world.approve("alice")
    events = [e for _ in range(5) for e in world.decide().events]
    assert [(e.type, e.reason) for e in events] == [("Warning", "ApprovalRefused")]


def test_continue_consumes_the_annotation() -> None:
    world = World(request(gated(alter_config("orders", "invoices"))))
    approved(world)
    world.run()
    world.annotate({"kcr.dev/continue": "canary"})
    assert world.decide().consumed == ("kcr.dev/continue",)
    assert world.run() is Phase.SUCCEEDED


def test_early_continue_releases_the_gate_when_reached() -> None:
    world = World(request(gated(alter_config("orders", "invoices"))))
    approved(world)
    world.annotate({"kcr.dev/continue": "canary"})
    assert world.run() is Phase.SUCCEEDED
    assert "kcr.dev/continue" not in world.resource.annotations


def test_pause_then_continue_retries_the_failed_step() -> None:
    world = World(request(alter_config("orders", "invoices")))
    paused_on_failure(world)
    world.step_script = None
    world.annotate({"kcr.dev/continue": "canary"})
    assert world.run() is Phase.SUCCEEDED
    assert [w for w in world.writes] == [
        ("alter-config-orders", False),
        ("alter-config-invoices", False),
    ]


def test_retriable_step_fails_after_the_step_timeout() -> None:
    world = World(
        request(increase_partitions()), settings=EngineSettings(step_timeout=timedelta(seconds=30))
    )
    approved(world)
    world.step_script = lambda e: StepOutcome(e.step.id, False, False, "group not empty", T0, True)
    assert world.run() is Phase.FAILED
    assert "step increase-partitions failed: group not empty" in world.status.message
    assert world.now - T0 >= timedelta(seconds=30)


def test_rollback_is_recomputed_from_the_snapshot() -> None:
    world = World(request(alter_config("orders")))
    approved(world)
    world.live = replace_topic(world, topic("orders", retention_ms="86400000", segment_ms="1000"))
    world.run()
    assert world.phase is Phase.SUCCEEDED
    assert world.status.snapshot is not None
    assert world.status.snapshot.topic("orders").configs["segment.ms"].value == "1000"  # type: ignore[union-attr]


def test_rollback_abort_lists_what_is_left() -> None:
    world = World(request(alter_config("orders", "invoices")))
    approved(world)
    world.run()
    world.step_script = lambda _effect: None
    assert rollback_approved(world) is Phase.ROLLING_BACK
    world.annotate({"kcr.dev/abort": "true"})
    world.step_script = None
    assert world.run() is Phase.ROLLBACK_FAILED
    assert "rollback stopped with kcr.dev/abort" in world.status.message
    assert "left to do by hand, in this order: on invoices: retention.ms=86400000; on orders" in (
        world.status.message
    )


def test_reset_rollback_restores_the_offsets_of_the_snapshot() -> None:
    world = World(request(reset_offsets()))
    approved(world)
    world.run()
    assert rollback_approved(world) is Phase.ROLLED_BACK
    undo = world.runs[-1].step.operation.member
    assert isinstance(undo, ResetConsumerGroupOffsets)
    assert undo.to.offsets is not None
    assert {o.offset for o in undo.to.offsets} == {5}
    assert "not undone: messages group billing processed after the reset" in world.status.message


def test_steps_record_their_timings_and_results() -> None:
    world = World(request(alter_config("orders", "invoices")))
    approved(world)
    world.run()
    steps = [s for stage in world.status.plan.stages for s in stage.steps]  # type: ignore[union-attr]
    assert all(s.state is StepState.SUCCEEDED for s in steps)
    assert all(s.started_at and s.finished_at and s.result == "Applied" for s in steps)


def test_terminal_phases_do_nothing() -> None:
    world = World(request(increase_partitions()))
    rejected(world)
    world.run()
    for _ in range(3):
        transition = world.decide()
        assert isinstance(transition.effect, Finish)
        assert transition.events == ()


def test_gate_checks_what_the_rollout_asks() -> None:
    gates = HealthGates(consumer_progress=ConsumerProgressGate(baseline_seconds=5))
    spec = alter_config("orders").model_copy(
        update={"rollout": Rollout(gates=gates, bake_seconds=5)}
    )
    world = World(request(spec))
    approved(world)
    seen: list[CheckGate] = []
    world.gate_passes = lambda gate: bool(seen.append(gate)) or True
    world.run()
    (gate,) = seen
    assert (gate.stage, gate.topics, gate.gates) == ("apply", ("orders",), gates)
    assert gate.under_replicated_baseline == 0
    stage = world.status.plan.stages[0]  # type: ignore[union-attr]
    assert stage.bake_started_at is not None
    assert world.status.history[-1].at - stage.bake_started_at >= timedelta(seconds=5)


def in_flight_then_rollback(world: World, answer: StepOutcome | None) -> None:
    """The canary step is written; a rollback is asked for before its answer is decided."""
    approved(world)
    world.step_script = lambda _effect: None
    world.run()
    running = [s for stage in world.status.plan.stages for s in stage.steps]  # type: ignore[union-attr]
    assert running[0].state is StepState.RUNNING
    world.annotate({"kcr.dev/rollback": "requested"})
    world.step_script = None
    world.decide(answer)
    world.run()


def test_rollback_asked_during_a_write_records_the_write_and_undoes_it() -> None:
    world = World(request(alter_config("orders", "invoices")))
    answer = StepOutcome("alter-config-orders", False, True, "Applied: retention.ms", T0)
    in_flight_then_rollback(world, answer)
    assert world.phase is Phase.ROLLED_BACK
    forward = [s for stage in world.status.plan.stages for s in stage.steps]  # type: ignore[union-attr]
    assert [(s.id, s.state) for s in forward] == [
        ("alter-config-orders", StepState.ROLLED_BACK),
        ("alter-config-invoices", StepState.PENDING),
    ]
    assert forward[0].result == "Applied: retention.ms"
    assert [(r.step.id, r.rollback) for r in world.runs][-1] == ("undo-alter-config-orders", True)


def test_rollback_after_a_crash_mid_write_undoes_the_unrecorded_write() -> None:
    world = World(request(alter_config("orders", "invoices")))
    in_flight_then_rollback(world, None)
    assert world.phase is Phase.ROLLED_BACK
    assert "rolled back alter-config-orders" in world.status.message


def test_abort_while_a_step_is_retried_stops_without_waiting_for_the_timeout() -> None:
    spec = reset_offsets().model_copy(
        update={"rollout": Rollout(on_failure=FailurePolicy.PAUSE, bake_seconds=0)}
    )
    world = World(request(spec))
    approved(world)
    world.step_script = lambda e: StepOutcome(e.step.id, False, False, "group not empty", T0, True)
    world.run(limit=3)
    assert world.phase is Phase.EXECUTING
    world.annotate({"kcr.dev/abort": "true"})
    assert world.run() is Phase.FAILED
    assert world.now - T0 < EngineSettings().step_timeout
    assert "stopped with kcr.dev/abort; no step had completed; may have been applied: " in (
        world.status.message
    )
    steps = [s for stage in world.status.plan.stages for s in stage.steps]  # type: ignore[union-attr]
    assert steps[0].state is StepState.RUNNING  # a write whose answer never came
    assert steps[0].result == "interrupted by kcr.dev/abort: group not empty"


def test_approval_withdrawn_before_the_first_write_is_obeyed() -> None:
    world = World(request(alter_config("orders")), blockers=(BLOCKER,))
    approved(world)
    world.run()
    assert world.phase is Phase.APPROVED  # waiting for the other request
    world.annotate({"kcr.dev/approved-by": ""})  # both take their names back
    world.blockers = ()
    world.run()
    assert world.phase is Phase.AWAITING_APPROVAL
    assert world.runs == []
    assert world.status.approvals == []
    assert "approval withdrawn before execution" in world.status.message
    world.approve("bob", "carol")
    assert world.run() is Phase.SUCCEEDED


def test_rollback_after_success_waits_for_a_change_running_on_the_same_topic() -> None:
    world = World(request(alter_config("orders")))
    approved(world)
    assert world.run() is Phase.SUCCEEDED
    world.ask_rollback()
    world.blockers = (BLOCKER,)
    world.run(limit=5)
    assert world.phase is Phase.SUCCEEDED
    assert world.resource.annotations["kcr.dev/rollback"] == "requested"
    assert world.status.message == (
        "rollback waiting for team-a/other (Executing) which changes topic orders to finish: "
        "one change per resource"
    )
    world.blockers = ()
    assert world.run() is Phase.AWAITING_ROLLBACK_APPROVAL
    world.approve_rollback("bob", "carol")
    assert world.run() is Phase.ROLLED_BACK


def test_a_reset_that_scales_a_deployment_claims_it() -> None:
    keys = claims("team-a", reset_offsets(deployment=True))
    assert "*/*/deployment/apps/billing" in keys
    other = reset_offsets(group="audit", deployment=True)
    assert keys & claims("team-b", other) == {"*/*/deployment/apps/billing"}
    assert describe_claim("*/*/deployment/apps/billing") == "deployment apps/billing"


UNREACHABLE = CheckResult(
    GateCheck.OFFLINE_PARTITIONS, False, "could not be checked: broker unreachable", False
)
HEALTHY = CheckResult(GateCheck.OFFLINE_PARTITIONS, True, "no offline partitions")


def test_a_gate_that_cannot_be_checked_is_asked_again_not_failed() -> None:
    world = World(request(increase_partitions()))
    answers = iter([UNREACHABLE, UNREACHABLE, HEALTHY])
    world.gate_answer = lambda _gate: next(answers)
    approved(world)
    assert world.run() is Phase.SUCCEEDED
    reasons = [e.reason for t in world.transitions for e in t.events]
    assert reasons.count("GateRetrying") == 1  # the same news is posted once
    assert "GateFailed" not in reasons


def test_a_gate_that_stays_unchecked_fails_after_the_step_timeout() -> None:
    world = World(
        request(increase_partitions()), settings=EngineSettings(step_timeout=timedelta(seconds=30))
    )
    world.gate_answer = lambda _gate: UNREACHABLE
    approved(world)
    assert world.run() is Phase.FAILED
    assert "could not be checked: broker unreachable" in world.status.message
    assert world.now - T0 >= timedelta(seconds=30)


def gate_of(spec: KafkaChangeRequestSpec) -> CheckGate:
    progress = ConsumerProgressGate(baseline_seconds=5)
    gated_spec = spec.model_copy(
        update={"rollout": Rollout(gates=HealthGates(consumer_progress=progress), bake_seconds=5)}
    )
    world = World(request(gated_spec))
    approved(world)
    seen: list[CheckGate] = []
    world.gate_passes = lambda gate: bool(seen.append(gate)) or True
    world.run()
    return seen[0]


def judged(spec: KafkaChangeRequestSpec) -> tuple[str, ...]:
    progress = gate_of(spec).progress
    return progress.groups if progress else ()


def test_progress_gate_judges_the_groups_the_change_affects_and_a_grant_names() -> None:
    grant = AclBinding(
        resource_type="Group", resource_name="billing", principal="User:bob", operation="Read"
    )
    acls = spec_of(AlterAcls(add=[grant]), state(topic("orders")))
    assert judged(acls) == ("billing",)  # judged only if it commits: else NotJudged

    assert judged(reset_offsets()) == ()  # stopped on purpose, never restarted

    config = alter_config("orders")
    observed = config.observed.model_copy(update={"consumers_of_topics": ["billing"]})  # type: ignore[union-attr]
    assert judged(config.model_copy(update={"observed": observed})) == ("billing",)
