"""Properties of the phase machine under any sequence of human and world events:
no transition skips approval, no completed step runs twice, a plan no approver saw never
runs, and phases only move along the documented edges."""

import itertools
from dataclasses import dataclass, field
from datetime import timedelta

from engine_world import World, cluster_spec, request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kcr_builders import T0, alter_config, increase_partitions, reset_offsets, topic

from kcr.engine import RunStep, StepOutcome
from kcr.model import FailurePolicy, HealthGates, KafkaChangeRequestStatus, Phase, Rollout
from kcr.plan import build_plan, plan_hash
from kcr.policy import evaluate_approvals

EDGES = {
    Phase.PENDING: {Phase.AWAITING_APPROVAL, Phase.INVALID, Phase.FAILED},
    Phase.AWAITING_APPROVAL: {Phase.APPROVED, Phase.REJECTED, Phase.EXPIRED, Phase.PENDING},
    Phase.APPROVED: {
        Phase.EXECUTING,
        Phase.STALE,
        Phase.REJECTED,
        Phase.PENDING,
        Phase.AWAITING_APPROVAL,
    },
    Phase.EXECUTING: {Phase.SUCCEEDED, Phase.PAUSED, Phase.ROLLING_BACK, Phase.FAILED},
    Phase.PAUSED: {Phase.EXECUTING, Phase.ROLLING_BACK, Phase.FAILED},
    Phase.SUCCEEDED: {Phase.ROLLING_BACK},
    Phase.ROLLING_BACK: {Phase.ROLLED_BACK, Phase.ROLLBACK_FAILED},
}

USERS = ["alice", "bob", "carol", "User:alice"]


@dataclass
class Outcomes:
    """How the world answers step writes: remembers what was really written."""

    mode: str = "ok"
    applied: set[tuple[str, bool]] = field(default_factory=set)
    writes: list[tuple[str, bool]] = field(default_factory=list)

    def __call__(self, effect: RunStep) -> StepOutcome | None:
        key = (effect.step.id, effect.rollback)
        if self.mode == "fail":
            return StepOutcome(effect.step.id, effect.rollback, False, "refused", T0)
        if self.mode == "retry":
            return StepOutcome(effect.step.id, effect.rollback, False, "busy", T0, retriable=True)
        if key not in self.applied:  # compare, then apply
            self.applied.add(key)
            self.writes.append(key)
        if self.mode == "crash":
            return None  # written, but the operator stopped before recording it
        return StepOutcome(effect.step.id, effect.rollback, True, "Applied", T0)


actions = st.one_of(
    st.tuples(st.just("approve"), st.lists(st.sampled_from(USERS), max_size=3), st.booleans()),
    st.tuples(
        st.just("annotate"), st.sampled_from(["kcr.dev/rejected-by", "kcr.dev/abort"]), st.just("x")
    ),
    st.tuples(st.just("annotate"), st.just("kcr.dev/rollback"), st.just("requested")),
    st.tuples(
        st.just("annotate"),
        st.just("kcr.dev/continue"),
        st.sampled_from(["canary", "batch-1", "apply"]),
    ),
    st.tuples(
        st.just("outcomes"), st.sampled_from(["ok", "ok", "fail", "retry", "crash"]), st.none()
    ),
    st.tuples(st.just("gates"), st.booleans(), st.none()),
    st.tuples(st.just("live"), st.booleans(), st.none()),
    st.tuples(st.just("time"), st.integers(min_value=0, max_value=8 * 86_400), st.none()),
)

specs = st.sampled_from(
    [
        lambda: alter_config("orders", "invoices"),
        lambda: alter_config("orders", "invoices").model_copy(
            update={"rollout": Rollout(gates=HealthGates(manual=True), bake_seconds=0)}
        ),
        lambda: alter_config("orders", "invoices").model_copy(
            update={"rollout": Rollout(on_failure=FailurePolicy.PAUSE, bake_seconds=5)}
        ),
        increase_partitions,
        reset_offsets,
    ]
)


def act(world: World, outcomes: Outcomes, action: tuple[object, ...]) -> None:
    kind, first, second = action
    if kind == "approve":
        assert isinstance(first, list)
        world.approve(*first, spec_hash=None if second else "0" * 64)
    elif kind == "annotate":
        world.annotate({str(first): str(second)})
    elif kind == "outcomes":
        outcomes.mode = str(first)
    elif kind == "gates":
        world.gate_passes = lambda _gate, passed=bool(first): passed
    elif kind == "live":
        observed = world.resource.spec.observed  # type: ignore[union-attr]
        changed = observed.model_copy(update={"topics": [topic("orders", 9)]})  # type: ignore[union-attr]
        world.live = changed if first else None
    else:
        assert isinstance(first, int)
        world.now += timedelta(seconds=first)


def approvals_hold(status: KafkaChangeRequestStatus, world: World) -> None:
    spec = world.resource.spec
    assert spec is not None
    assert status.plan is not None
    assert status.risk is not None
    assert status.phase in (Phase.EXECUTING, Phase.ROLLING_BACK)
    users = [a.user for a in status.approvals]
    verdict = evaluate_approvals(
        approvers=users,
        approved_spec_hash=status.spec_hash,
        spec_hash=status.spec_hash or "",
        requester=spec.requested_by.principal,
        risk=status.risk,
        policy=cluster_spec().policy,
    )
    assert verdict.satisfied, verdict.message
    plan = status.plan
    assert plan.hash == plan_hash(plan) == build_plan(spec).hash
    assert {a.plan_hash for a in status.approvals} == {plan.hash}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs, script=st.lists(actions, min_size=1, max_size=25))
def test_invariants_hold_for_any_sequence(spec: object, script: list[tuple[object, ...]]) -> None:
    world = World(request(spec()))  # type: ignore[operator]
    outcomes = Outcomes()
    world.step_script = outcomes
    phases = [world.phase]
    for action in [("time", 0, None), *script]:
        act(world, outcomes, action)
        world.run(limit=60, longest_wait=timedelta(hours=12))
        phases += [t.status.phase for t in world.transitions[len(phases) - 1 :]]

    # Phases move only along the documented edges; terminal phases never move.
    for before, after in itertools.pairwise(phases):
        assert before == after or after in EDGES.get(before, set()), (before, after)

    # Every write was preceded by a recorded, sufficient approval of exactly this plan.
    for effect, status in zip(world.runs, world.run_statuses, strict=True):
        approvals_hold(status, world)
        current = [s for stage in status.plan.stages for s in stage.steps]  # type: ignore[union-attr]
        if not effect.rollback:
            index = next(i for i, s in enumerate(current) if s.id == effect.step.id)
            assert all(s.state.value == "Succeeded" for s in current[:index])

    # No step whose success was recorded is asked to run again.
    done: set[tuple[str, bool]] = set()
    for transition in world.transitions:
        effect = transition.effect
        if isinstance(effect, RunStep):
            key = (effect.step.id, effect.rollback)
            assert key not in done, f"{key} asked to run again after it succeeded"
            assert key in running(transition.status), f"{key} runs before status says Running"
        done |= completed(transition.status)
    # A rollback that says RolledBack undid every reversible write that reached Kafka,
    # including one in flight when the rollback was asked for or the operator stopped.
    if world.phase is Phase.ROLLED_BACK:
        undo = world.status.rollback_plan.steps  # type: ignore[union-attr]
        for forward_id, rollback in outcomes.applied:
            for step in undo:
                if not rollback and step.undoes == forward_id:
                    assert (step.id, True) in outcomes.applied, f"{forward_id} left applied"


def running(status: KafkaChangeRequestStatus) -> set[tuple[str, bool]]:
    forward = [s for stage in status.plan.stages for s in stage.steps] if status.plan else []
    undo = status.rollback_plan.steps if status.rollback_plan else []
    return {(s.id, False) for s in forward if s.state.value == "Running"} | {
        (s.id, True) for s in undo if s.state.value == "Running"
    }


def completed(status: KafkaChangeRequestStatus) -> set[tuple[str, bool]]:
    forward = [s for stage in status.plan.stages for s in stage.steps] if status.plan else []
    undo = status.rollback_plan.steps if status.rollback_plan else []
    return {(s.id, False) for s in forward if s.state.value in ("Succeeded", "RolledBack")} | {
        (s.id, True) for s in undo if s.state.value == "Succeeded"
    }


def test_requester_alone_can_never_start_a_change() -> None:
    world = World(request(increase_partitions()))
    world.run()
    for users in (["alice"], ["User:alice"], ["alice", "User:alice"], ["ALICE"]):
        world.approve(*users)
        world.run()
        assert world.phase is Phase.AWAITING_APPROVAL
    assert world.runs == []
