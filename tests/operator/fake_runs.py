"""The operator's loop over the Kafka fake: each effect done by the operator's own actions
(``kcr.operator.actions``), with hooks before each step, consumer position reading and gate
check, and a workloads port, so a test can make traffic and consumption happen as time
passes or stand in for a Deployment's pods."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine_world import World
from kcr_builders import T0

from kcr.engine import (
    Answer,
    CheckGate,
    Finish,
    Next,
    RunStep,
    SampleProgress,
    TakeSnapshot,
    Wait,
)
from kcr.kafka.fake import FakeCluster, FakeKafka
from kcr.model import Phase
from kcr.operator import actions
from kcr.operator.metrics import Metrics

MOVES = 1000


@dataclass
class SimClock:
    """The world's time for the fake, so consumer positions are read at the engine's now."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakeDeployment:
    """A Deployment as the operator's Kubernetes port sees it; ``on_restart`` stands for the
    rollout: it replaces the pods (the group's members) when the template changes."""

    replicas: int
    annotations: dict[str, str] = field(default_factory=dict)
    on_restart: Callable[[], None] = lambda: None
    patches: int = 0


@dataclass
class FakeWorkloads:
    deployments: dict[tuple[str, str], FakeDeployment] = field(default_factory=dict)

    async def deployment_replicas(self, namespace: str, name: str) -> int | None:
        found = self.deployments.get((namespace, name))
        return found.replicas if found else None

    async def scale_deployment(self, namespace: str, name: str, replicas: int) -> None:
        self.deployments[(namespace, name)].replicas = replicas

    async def deployment_template_annotations(
        self, namespace: str, name: str
    ) -> dict[str, str] | None:
        found = self.deployments.get((namespace, name))
        return dict(found.annotations) if found else None

    async def restart_deployment(self, namespace: str, name: str, stamp: str) -> None:
        found = self.deployments[(namespace, name)]
        found.patches += 1
        found.annotations["kubectl.kubernetes.io/restartedAt"] = stamp
        found.on_restart()


async def drive(
    world: World,
    kafka: FakeKafka,
    until: Phase,
    *,
    kube: Any = None,
    sim: SimClock | None = None,
    before_gate: Callable[[CheckGate], None] = lambda _: None,
    before_step: Callable[[RunStep], None] = lambda _: None,
    before_sample: Callable[[SampleProgress], None] = lambda _: None,
) -> Phase:
    """Until the request reaches ``until``, finishes, or waits for a person. ``sim``, the
    fake's clock, follows the world's."""
    answer: Answer | None = None

    def now() -> datetime:
        if sim is not None:
            sim.now = world.now
        return world.now

    for _ in range(MOVES):
        effect = world.decide(answer).effect
        answer = None
        if world.phase is until:
            break
        world.now += timedelta(milliseconds=10)
        if isinstance(effect, Finish):
            break
        if isinstance(effect, Wait):
            if effect.until is None:
                break
            world.now = max(world.now, effect.until)
            continue
        now()
        if isinstance(effect, TakeSnapshot):
            assert world.resource.spec is not None
            answer = await actions.take_snapshot(kafka, kube, world.resource.spec, now)
        elif isinstance(effect, RunStep):
            before_step(effect)
            answer = await actions.run_step(effect, kafka, kube, world.status, now)
        elif isinstance(effect, SampleProgress):
            before_sample(effect)
            answer = await actions.sample_progress(kafka, effect)
        elif isinstance(effect, CheckGate):
            before_gate(effect)
            answer = await actions.check_gate(effect, kafka, lambda url: None, Metrics())  # type: ignore[arg-type,return-value]
        else:
            assert isinstance(effect, Next)
    return world.phase


@dataclass
class Consumption:
    """Records arriving on one partition and a group reading them, integrated over the
    fake's time: ``advance`` produces and commits what happened since the last call.
    ``reading`` gives the group's rate at that moment (it may depend on the fake's state)."""

    cluster: FakeCluster
    sim: SimClock
    topic: str
    group: str
    arriving: float
    reading: Callable[[], float]
    produced: float = 0.0
    committed: float = 0.0
    at: datetime | None = None

    def advance(self, *_: object) -> None:
        now = self.sim.now
        seconds = (now - self.at).total_seconds() if self.at else 0.0
        self.at = now
        if seconds <= 0:
            return
        before = int(self.produced)
        self.produced += self.arriving * seconds
        self.cluster.produce(self.topic, 0, int(self.produced) - before)
        self.committed = min(self.produced, self.committed + self.reading() * seconds)
        self.cluster.commit(self.group, {(self.topic, 0): int(self.committed)})
