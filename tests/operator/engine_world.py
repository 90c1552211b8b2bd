"""A pure stand-in for the operator loop: drives ``decide`` with scripted observations.

It applies each transition as the operator does (write the status, drop the annotations
acted upon, do the one effect) and records every write, so tests assert on what a real
run would leave behind.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from kcr_builders import T0

from kcr.engine import (
    Answer,
    Blocker,
    ChangeRequestView,
    CheckGate,
    CheckResult,
    DeploymentLabels,
    EngineSettings,
    Finish,
    GateCheck,
    GateReport,
    Next,
    Observations,
    ProgressRead,
    ReadStrimzi,
    RunStep,
    SampleProgress,
    Snapshot,
    StepOutcome,
    StrimziRead,
    TakeSnapshot,
    Transition,
    Wait,
    decide,
)
from kcr.engine.progress import judge
from kcr.model import (
    ClusterPolicy,
    ConsumerPositions,
    GroupPosition,
    HealthBaseline,
    HealthGates,
    KafkaChangeRequestSpec,
    KafkaChangeRequestStatus,
    KafkaClusterSpec,
    ObservedState,
    Phase,
    Rollout,
)
from kcr.model.strimzi import StrimziResources
from kcr.policy.signatures import AllowedSigners

StepScript = Callable[[RunStep], StepOutcome | None]


def cluster_spec(**policy: Any) -> KafkaClusterSpec:
    return KafkaClusterSpec(
        bootstrap_servers="kafka:9092",
        prometheus_url="http://prometheus:9090",
        policy=ClusterPolicy(**policy),
    )


def request(spec: KafkaChangeRequestSpec, **annotations: str) -> ChangeRequestView:
    return ChangeRequestView(
        namespace="team-a",
        name="change-1",
        spec=spec,
        status=KafkaChangeRequestStatus(),
        annotations=annotations,
        generation=1,
        created_at=T0,
    )


def ok(effect: RunStep, at: datetime) -> StepOutcome:
    return StepOutcome(effect.step.id, effect.rollback, True, "Applied", at)


@dataclass
class World:
    resource: ChangeRequestView
    cluster: KafkaClusterSpec | None = field(default_factory=cluster_spec)
    now: datetime = T0
    live: ObservedState | None = None
    """What a snapshot reads; ``spec.observed`` when unset."""
    left: ObservedState | None = None
    """What a snapshot reads once a forward write was made (the state the change left);
    ``live`` when unset."""
    step_script: StepScript | None = None
    gate_passes: Callable[[CheckGate], bool] = lambda _: True
    gate_answer: Callable[[CheckGate], CheckResult] | None = None
    """When set, answers each gate check instead of ``gate_passes``."""
    consumers: Callable[["World", tuple[str, ...]], ConsumerPositions] | None = None
    """Where consumer groups stand now; every watched group at offset 0 when unset."""
    scaled: DeploymentLabels | None = None
    """The labels of the Deployment an offset reset scales, read for its review."""
    settings: EngineSettings = field(default_factory=EngineSettings)
    blockers: tuple[Blocker, ...] = ()
    allowed_signers: AllowedSigners | None = None
    strimzi: StrimziResources | None = None
    """What listing the KafkaTopics and KafkaUsers returns when the engine asks."""
    strimzi_problem: str = ""
    strimzi_reads: list[Phase] = field(default_factory=list)
    """The phase at each listing of Strimzi's resources, in order."""
    writes: list[tuple[str, bool]] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    runs: list[RunStep] = field(default_factory=list)
    run_statuses: list[KafkaChangeRequestStatus] = field(default_factory=list)
    """The status written with each RunStep: what was recorded before the write."""

    @property
    def status(self) -> KafkaChangeRequestStatus:
        return self.resource.status

    @property
    def phase(self) -> Phase:
        return self.resource.status.phase

    def annotate(self, annotations: dict[str, str]) -> None:
        merged = {**self.resource.annotations, **annotations}
        self.resource = replace(self.resource, annotations=merged)

    def approve(self, *users: str, spec_hash: str | None = None) -> None:
        self.annotate(
            {
                "kcr.dev/approved-by": ",".join(users),
                "kcr.dev/approved-spec-hash": spec_hash or self.status.spec_hash or "",
            }
        )

    def ask_rollback(self, by: str = "dave") -> None:
        self.annotate({"kcr.dev/rollback": "requested", "kcr.dev/rollback-requested-by": by})

    def approve_rollback(self, *users: str, rollback_hash: str | None = None) -> None:
        review = self.status.rollback_review
        self.annotate(
            {
                "kcr.dev/rollback-approved-by": ",".join(users),
                "kcr.dev/rollback-approved-hash": rollback_hash or (review.hash if review else ""),
            }
        )

    def decide(self, answer: Answer | None = None) -> Transition:
        observations = Observations(
            cluster=self.cluster,
            settings=self.settings,
            blockers=self.blockers,
            allowed_signers=self.allowed_signers,
            scaled_deployment=self.scaled,
            answer=answer,
        )
        transition = decide(self.resource, observations, self.now)
        self.transitions.append(transition)
        self.resource = self.resource.with_status(transition.status).without_annotations(
            transition.consumed
        )
        return transition

    def run(self, limit: int = 200, longest_wait: timedelta = timedelta(hours=1)) -> Phase:
        """Drive until the engine finishes, waits for a person (or longer than
        ``longest_wait``), or ``limit`` moves were made."""
        answer: Answer | None = None
        for _ in range(limit):
            effect = self.decide(answer).effect
            answer = None
            self.now += timedelta(milliseconds=10)
            if isinstance(effect, Finish):
                break
            if isinstance(effect, Wait):
                if effect.until is None or effect.until - self.now > longest_wait:
                    break
                self.now = max(self.now, effect.until)
            elif isinstance(effect, TakeSnapshot):
                state = self.live or self.resource.spec.observed  # type: ignore[union-attr]
                if self.left is not None and any(not rollback for _, rollback in self.writes):
                    state = self.left
                assert state is not None
                baseline = HealthBaseline(captured_at=self.now, under_replicated_partitions=0)
                answer = Snapshot(state=state, baseline=baseline)
            elif isinstance(effect, SampleProgress):
                answer = ProgressRead(effect.stage, self.positions(effect.groups))
            elif isinstance(effect, ReadStrimzi):
                self.strimzi_reads.append(self.phase)
                answer = StrimziRead(self.strimzi, self.strimzi_problem)
            elif isinstance(effect, CheckGate):
                answer = self.check(effect)
            elif isinstance(effect, RunStep):
                self.runs.append(effect)
                self.run_statuses.append(self.status.model_copy(deep=True))
                outcome = self.step_script(effect) if self.step_script else ok(effect, self.now)
                if outcome is None:  # the operator stopped mid-step: no outcome is recorded
                    break
                if outcome.succeeded:
                    self.writes.append((effect.step.id, effect.rollback))
                answer = outcome
            else:
                assert isinstance(effect, Next)
        return self.phase

    def positions(self, groups: tuple[str, ...]) -> ConsumerPositions:
        if self.consumers is not None:
            return self.consumers(self, groups)
        idle = [GroupPosition(group=g, committed=0, log_end=0, partitions=1) for g in groups]
        return ConsumerPositions(observed_at=self.now, groups=idle)

    def check(self, effect: CheckGate) -> GateReport:
        """The scripted checks, and the progress check judged as the operator judges it."""
        if self.gate_answer is not None:
            check = self.gate_answer(effect)
        else:
            passed = self.gate_passes(effect)
            check = CheckResult(GateCheck.OFFLINE_PARTITIONS, passed, "0 offline")
        if effect.progress is None:
            return GateReport(effect.stage, (check,))
        progress, verdicts = judge(effect.progress, self.positions(effect.progress.groups))
        return GateReport(effect.stage, (check, progress), tuple(verdicts))

    @property
    def changed(self) -> bool:
        """A forward write is in place and not undone yet."""
        forward = sum(1 for _, rollback in self.writes if not rollback)
        return forward > sum(1 for _, rollback in self.writes if rollback)


def reviewed(world: World) -> None:
    world.run()
    assert world.phase is Phase.AWAITING_APPROVAL


def approved(world: World) -> None:
    reviewed(world)
    world.approve("bob", "carol")
    world.decide()
    assert world.phase is Phase.APPROVED


def rollback_approved(world: World, asker: str = "dave", *approvers: str) -> Phase:
    """After Succeeded: ``asker`` asks for the rollback, others approve it, it runs."""
    world.ask_rollback(asker)
    assert world.run() is Phase.AWAITING_ROLLBACK_APPROVAL, world.status.message
    world.approve_rollback(*(approvers or ("bob", "carol")))
    return world.run()


def failing(outcome: str) -> Callable[[RunStep], StepOutcome]:
    def script(effect: RunStep) -> StepOutcome:
        if effect.rollback:
            return ok(effect, T0)
        return StepOutcome(effect.step.id, False, False, outcome, T0, retriable=False)

    return script


def gated(spec: KafkaChangeRequestSpec, **rollout: object) -> KafkaChangeRequestSpec:
    return spec.model_copy(
        update={"rollout": Rollout(gates=HealthGates(manual=True), bake_seconds=0, **rollout)}
    )


def replace_topic(world: World, seen: object) -> object:
    observed = world.resource.spec.observed  # type: ignore[union-attr]
    return observed.model_copy(update={"topics": [seen]})  # type: ignore[union-attr]
