"""Properties of the phase machine under any sequence of human and world events.

A hypothesis state machine plays reviewers, approvers, Kafka and the clock against the pure
engine. After every move: phases follow the documented edges, every phase change is written
to history with an Event of the same reason, no write happens without a sufficient approval
of exactly the plan that runs, no completed step runs again, and a rollback undoes exactly
the steps that ran, newest first. The run counts which phases its examples reach, so a
change that stops it from exploring (most examples never approved, say) fails the test.
"""

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from engine_world import World, cluster_spec, request
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from kcr_builders import ALL_KINDS, T0, alter_config, increase_partitions, topic

from kcr.engine import EngineSettings, RunStep, StepOutcome
from kcr.model import (
    FailurePolicy,
    HealthGates,
    KafkaChangeRequestSpec,
    KafkaChangeRequestStatus,
    Phase,
    Rollout,
    StepState,
)
from kcr.plan import all_steps, build_plan, plan_hash
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
MUST_REACH = (Phase.EXECUTING, Phase.SUCCEEDED, Phase.FAILED, Phase.ROLLED_BACK)
"""Each reached in at least ``SHARE`` of the examples: the rollback checks must really run."""
MAY_REACH = (Phase.PAUSED, Phase.STALE, Phase.REJECTED, Phase.EXPIRED, Phase.ROLLBACK_FAILED)
"""Each reached by at least one example."""
SHARE = 0.10
PATIENCE = [timedelta(seconds=10), timedelta(hours=12), timedelta(hours=12)]
"""How long the operator's loop waits by itself between events: retries only, so that
events happen while a stage bakes, or bakes too, so that changes run to their end."""
EXAMPLES = 200
SETTINGS = EngineSettings(step_timeout=timedelta(seconds=30))
"""Six retries of a busy step before it fails, not sixty."""
MODES = ["ok", "fail", "fail-after-one", "fail-undo", "retry", "crash"]
ANSWERS = [
    *[("ok", True)] * 3,
    *[("ok", False)] * 3,
    *[(mode, True) for mode in MODES[1:]],
    ("fail-undo", False),
]
"""How Kafka and the gates first answer (later rules change them): about as many runs
that should succeed as runs that should fail or roll back."""
USERS = ["alice", "bob", "carol", "User:alice"]
REVIEWERS = ("bob", "carol")


def paced(spec: KafkaChangeRequestSpec, **rollout: object) -> KafkaChangeRequestSpec:
    return spec.model_copy(update={"rollout": Rollout(**rollout)})  # type: ignore[arg-type]


SPECS = {
    **ALL_KINDS,
    "AlterTopicConfig with a manual gate": lambda: paced(
        alter_config("orders", "invoices"), gates=HealthGates(manual=True), bake_seconds=0
    ),
    "AlterTopicConfig that pauses on failure": lambda: paced(
        alter_config("orders", "invoices"), on_failure=FailurePolicy.PAUSE, bake_seconds=5
    ),
}


def aborted_while_paused(status: KafkaChangeRequestStatus) -> bool:
    """An abort while paused stops and leaves what was done in place, by design."""
    history = status.history
    return (
        len(history) >= 2 and history[-1].reason == "Aborted" and history[-2].phase is Phase.PAUSED
    )


@dataclass
class Kafka:
    """How the world answers step writes: remembers which writes really happened."""

    mode: str = "ok"
    applied: set[tuple[str, bool]] = field(default_factory=set)

    def __call__(self, effect: RunStep) -> StepOutcome | None:
        key = (effect.step.id, effect.rollback)
        if self.refuses(key):
            return StepOutcome(effect.step.id, effect.rollback, False, "refused", T0)
        if self.mode == "retry":
            return StepOutcome(effect.step.id, effect.rollback, False, "busy", T0, retriable=True)
        self.applied.add(key)  # compare, then apply: a repeat writes nothing new
        if self.mode == "crash":
            return None  # written, but the operator stopped before recording it
        return StepOutcome(effect.step.id, effect.rollback, True, "Applied", T0)

    def refuses(self, key: tuple[str, bool]) -> bool:
        rollback = key[1]
        if self.mode == "fail" or (self.mode == "fail-undo" and rollback):
            return True
        wrote_one = any(not undo for _, undo in self.applied)
        return (
            self.mode == "fail-after-one" and not rollback and wrote_one and key not in self.applied
        )


class ChangeRequestMachine(RuleBasedStateMachine):
    """One request, driven by the operator's loop after every human or world event."""

    reached: Counter[Phase] = Counter()
    examples = 0

    def __init__(self) -> None:
        super().__init__()
        self.kafka = Kafka()
        self.world = World(request(alter_config()))
        self.phases: list[Phase] = []
        self.patience = PATIENCE[0]
        self.checked_transitions = 0
        self.checked_runs = 0

    # --- what people and the world do ---------------------------------------------------------

    @initialize(
        kind=st.sampled_from(sorted(SPECS)),
        answers=st.sampled_from(ANSWERS),
        patience=st.sampled_from(PATIENCE),
        live_moved=st.sampled_from([False] * 7 + [True]),
        approved_at_once=st.sampled_from([True, True, True, False]),
    )
    def draft(
        self,
        kind: str,
        answers: tuple[str, bool],
        patience: timedelta,
        live_moved: bool,
        approved_at_once: bool,
    ) -> None:
        self.patience = patience
        self.world = World(request(SPECS[kind]()), step_script=self.kafka, settings=SETTINGS)
        self.kafka.mode, passes = answers
        self.world.gate_passes = lambda _gate: passes
        self.phases = [self.world.phase]
        self.operate()
        if live_moved:
            self.live_state_moves(moved=True)
        if approved_at_once:
            self.reviewers_approve()

    @rule()
    def reviewers_approve(self) -> None:
        self.world.approve(*REVIEWERS)
        self.operate()

    @rule(users=st.lists(st.sampled_from(USERS), max_size=3), current_hash=st.booleans())
    def anyone_approves(self, users: list[str], current_hash: bool) -> None:
        self.world.approve(*users, spec_hash=None if current_hash else "0" * 64)
        self.operate()

    @rule()
    def reviewer_rejects(self) -> None:
        self.annotate("kcr.dev/rejected-by", "dave")

    @rule()
    def someone_aborts(self) -> None:
        self.annotate("kcr.dev/abort", "true")

    @rule()
    def someone_asks_for_a_rollback(self) -> None:
        self.annotate("kcr.dev/rollback", "requested")

    @rule(stage=st.sampled_from(["canary", "batch-1", "apply"]))
    def approver_continues(self, stage: str) -> None:
        self.annotate("kcr.dev/continue", stage)

    @rule(mode=st.sampled_from(MODES))
    def kafka_answers(self, mode: str) -> None:
        self.kafka.mode = mode
        self.operate()

    @rule(passes=st.booleans())
    def gates_answer(self, passes: bool) -> None:
        self.world.gate_passes = lambda _gate: passes
        self.operate()

    @rule(moved=st.booleans())
    def live_state_moves(self, moved: bool) -> None:
        observed = self.world.resource.spec.observed  # type: ignore[union-attr]
        assert observed is not None
        changed = observed.model_copy(update={"topics": [topic("orders", 9)]})
        self.world.live = changed if moved else None
        self.operate()

    @rule(seconds=st.integers(0, 120))
    def time_passes(self, seconds: int) -> None:
        self.world.now += timedelta(seconds=seconds)
        self.operate()

    @rule()
    def a_week_passes(self) -> None:
        self.world.now += timedelta(days=8)
        self.operate()

    def annotate(self, key: str, value: str) -> None:
        self.world.annotate({key: value})
        self.operate()

    def operate(self) -> None:
        before = len(self.world.transitions)
        self.world.run(limit=60, longest_wait=self.patience)
        self.phases += [t.status.phase for t in self.world.transitions[before:]]

    # --- what must hold after every move --------------------------------------------------------

    @invariant()
    def phases_follow_the_documented_edges(self) -> None:
        for before, after in itertools.pairwise(self.phases):
            assert before == after or after in EDGES.get(before, set()), (before, after)

    @invariant()
    def every_phase_change_is_recorded(self) -> None:
        transitions = self.world.transitions
        previous = (
            transitions[self.checked_transitions - 1].status if self.checked_transitions else None
        )
        for transition in transitions[self.checked_transitions :]:
            status = transition.status
            if previous is not None and status.phase is not previous.phase:
                entry = status.history[-1]
                assert entry.phase is status.phase, (entry, status.phase)
                assert entry.reason in {e.reason for e in transition.events}, entry.reason
                ready = next(c for c in status.conditions if c.type == "Ready")
                assert ready.observed_generation == self.world.resource.generation
            previous = status
        self.checked_transitions = len(transitions)

    @invariant()
    def no_write_without_approval_of_this_plan(self) -> None:
        runs = zip(self.world.runs, self.world.run_statuses, strict=True)
        for effect, status in itertools.islice(runs, self.checked_runs, None):
            approvals_hold(status, self.world)
            if not effect.rollback:
                forward = all_steps(status.plan)  # type: ignore[arg-type]
                index = next(i for i, s in enumerate(forward) if s.id == effect.step.id)
                assert all(s.state is StepState.SUCCEEDED for s in forward[:index])
        self.checked_runs = len(self.world.runs)

    @invariant()
    def no_step_runs_twice(self) -> None:
        done: set[tuple[str, bool]] = set()
        for transition in self.world.transitions:
            effect = transition.effect
            if isinstance(effect, RunStep):
                key = (effect.step.id, effect.rollback)
                assert key not in done, f"{key} asked to run again after it succeeded"
                assert key in running(transition.status), f"{key} runs before status says Running"
            done |= completed(transition.status)

    @invariant()
    def a_rollback_undoes_exactly_what_ran_newest_first(self) -> None:
        spec = self.world.resource.spec
        assert spec is not None
        undo = self.world.status.rollback_plan.steps if self.world.status.rollback_plan else []
        undoes = {step.id: step.undoes for step in undo}
        started = first_runs(self.world.runs, rollback=False)
        undone = [undoes[step_id] for step_id in first_runs(self.world.runs, rollback=True)]
        finished = self.world.phase is Phase.ROLLED_BACK or (
            self.world.phase is Phase.FAILED
            and spec.rollout.on_failure is FailurePolicy.ROLLBACK
            and not aborted_while_paused(self.world.status)
        )
        if not finished:
            return
        # Every reversible write that reached Kafka is undone, in flight or not: a request
        # that fails under the rollback policy had nothing left to undo (an abort while
        # paused stops and leaves what was done in place, by design).
        for forward_id, rollback in self.kafka.applied:
            if not rollback and forward_id in undoes.values():
                assert forward_id in undone, f"{forward_id} left applied"
        if self.world.phase is Phase.FAILED:
            return
        # Only steps asked to run are undone, each once, newest first.
        assert set(undone) <= set(started), (undone, started)
        assert undone == [s for s in reversed(started) if s in undone], (undone, started)
        forward = all_steps(self.world.status.plan)  # type: ignore[arg-type]
        rolled_back = {s.id for s in forward if s.state is StepState.ROLLED_BACK}
        assert rolled_back == set(undone)

    def teardown(self) -> None:
        if not self.phases:
            return  # hypothesis gave up on this example before the request was drafted
        cls = type(self)
        cls.examples += 1
        cls.reached.update(set(self.phases))


def first_runs(runs: list[RunStep], rollback: bool) -> list[str]:
    """Step ids in the order they were first asked to run."""
    return list(dict.fromkeys(r.step.id for r in runs if r.rollback is rollback))


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


def running(status: KafkaChangeRequestStatus) -> set[tuple[str, bool]]:
    forward = all_steps(status.plan) if status.plan else []
    undo = status.rollback_plan.steps if status.rollback_plan else []
    return {(s.id, False) for s in forward if s.state is StepState.RUNNING} | {
        (s.id, True) for s in undo if s.state is StepState.RUNNING
    }


def completed(status: KafkaChangeRequestStatus) -> set[tuple[str, bool]]:
    forward = all_steps(status.plan) if status.plan else []
    undo = status.rollback_plan.steps if status.rollback_plan else []
    finished = (StepState.SUCCEEDED, StepState.ROLLED_BACK)
    return {(s.id, False) for s in forward if s.state in finished} | {
        (s.id, True) for s in undo if s.state is StepState.SUCCEEDED
    }


def test_invariants_hold_for_any_sequence_and_every_outcome_is_reached() -> None:
    ChangeRequestMachine.reached = Counter()
    ChangeRequestMachine.examples = 0
    run_state_machine_as_test(
        ChangeRequestMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=20,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    examples = ChangeRequestMachine.examples
    reached = ChangeRequestMachine.reached
    shares = ", ".join(f"{phase.value} {reached[phase] / examples:.0%}" for phase in Phase)
    for phase in MUST_REACH:
        assert reached[phase] >= SHARE * examples, f"{phase.value} too rare of {examples}: {shares}"
    for phase in MAY_REACH:
        assert reached[phase] > 0, f"{phase.value} never reached in {examples}: {shares}"


def test_requester_alone_can_never_start_a_change() -> None:
    world = World(request(increase_partitions()))
    world.run()
    for users in (["alice"], ["User:alice"], ["alice", "User:alice"], ["ALICE"]):
        world.approve(*users)
        world.run()
        assert world.phase is Phase.AWAITING_APPROVAL
    assert world.runs == []
