"""The operator's loop over the Kafka fake: each effect done by the operator's own actions
(``kcr.operator.actions``), with hooks before each step and gate check and a workloads port,
so a test can make traffic during a bake or stand in for a Deployment's pods."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from engine_world import World

from kcr.engine import Answer, CheckGate, Finish, Next, RunStep, SampleLag, TakeSnapshot, Wait
from kcr.kafka.fake import FakeKafka
from kcr.model import Phase
from kcr.operator import actions
from kcr.operator.metrics import Metrics

MOVES = 300


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
    before_gate: Callable[[CheckGate], None] = lambda _: None,
    before_step: Callable[[RunStep], None] = lambda _: None,
) -> Phase:
    """Until the request reaches ``until``, finishes, or waits for a person."""
    answer: Answer | None = None
    clock = lambda: world.now  # noqa: E731
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
        elif isinstance(effect, TakeSnapshot):
            assert world.resource.spec is not None
            answer = await actions.take_snapshot(kafka, kube, world.resource.spec, clock)
        elif isinstance(effect, RunStep):
            before_step(effect)
            answer = await actions.run_step(effect, kafka, kube, world.status, clock)
        elif isinstance(effect, SampleLag):
            answer = await actions.sample_lag(kafka, effect.stage, effect.groups)
        elif isinstance(effect, CheckGate):
            before_gate(effect)
            answer = await actions.check_gate(effect, kafka, lambda url: None, Metrics())  # type: ignore[arg-type,return-value]
        else:
            assert isinstance(effect, Next)
    return world.phase
