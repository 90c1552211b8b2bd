"""A Deployment restart through the engine and the operator's own actions on the Kafka fake:
the pod template stamped once however often the step runs, the wait for every member to
come back with a new id, the consumer progress gate after it (judged though no gate asks),
and a rollback that says it cannot undo."""

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from engine_world import World, request
from fake_runs import Consumption, FakeDeployment, FakeWorkloads, SimClock, drive

from kcr import kinds
from kcr.engine import DeploymentLabels, RunStep
from kcr.kafka.fake import FakeCluster, FakeKafka
from kcr.kinds.restart_workload import RESTARTED_AT, RestartWorkload, restart_stamp
from kcr.model import (
    Change,
    DeploymentRef,
    KafkaChangeRequestSpec,
    Phase,
    ProgressVerdict,
    RequestedBy,
    Risk,
    Rollout,
    StepState,
)

pytestmark = pytest.mark.asyncio

RESTART = RestartWorkload(
    group="billing", deployment=DeploymentRef(namespace="shop", name="billing-api")
)
LABELS = DeploymentLabels({"kcr.dev/consumer-group": "billing"})


class Pods:
    """The Deployment's pods as members of the fake group: a rollout replaces one pod each
    time the operator looks, as a rolling update does."""

    def __init__(self, cluster: FakeCluster, replicas: int) -> None:
        self.cluster = cluster
        self.ids = itertools.count()
        self.old: list[str] = []
        for _ in range(replicas):
            self.start()

    def start(self) -> str:
        member = f"billing-api-{next(self.ids)}"
        self.cluster.join("billing", member, client_id="billing-api")
        return member

    def restart(self) -> None:
        self.old = sorted(self.cluster.groups["billing"].members)

    def roll_one(self, _step: RunStep) -> None:
        if self.old:
            self.cluster.leave("billing", self.old.pop(0))
            self.start()


@dataclass
class Restart:
    kafka: FakeKafka
    workloads: FakeWorkloads
    pods: Pods
    flow: Consumption
    sim: SimClock
    spec: KafkaChangeRequestSpec

    async def run(self, world: World, until: Phase, *, rolls: bool = True) -> Phase:
        def step(effect: RunStep) -> None:
            self.flow.advance()
            if rolls:
                self.pods.roll_one(effect)

        return await drive(
            world,
            self.kafka,
            until,
            kube=self.workloads,
            sim=self.sim,
            before_step=step,
            before_sample=self.flow.advance,
            before_gate=self.flow.advance,
        )


async def setup(after_restart: float = 20.0) -> Restart:
    """The pods read 20 records a second of the 20 arriving; ``after_restart`` once the
    Deployment was restarted."""
    sim = SimClock()
    cluster = FakeCluster(clock=sim)
    kafka = FakeKafka(cluster, clock=sim)
    await cluster.create_topic("orders", 1, 1, {})
    pods = Pods(cluster, replicas=2)
    deployment = FakeDeployment(replicas=2, on_restart=pods.restart)
    workloads = FakeWorkloads({("shop", "billing-api"): deployment})

    def reading() -> float:
        return after_restart if deployment.patches else 20.0

    flow = Consumption(cluster, sim, "orders", "billing", arriving=20, reading=reading)
    flow.advance()
    sim.now += timedelta(seconds=5)
    flow.advance()
    change = Change.of(RESTART)
    spec = KafkaChangeRequestSpec(
        cluster="prod",
        change=change,
        requested_by=RequestedBy(principal="alice", channel="mcp"),
        reason="billing holds a stale registry client",
        observed=await kinds.take_snapshot(kafka, change, sim.now),
        rollout=Rollout(bake_seconds=30),
    )
    return Restart(kafka, workloads, pods, flow, sim, spec)


async def test_restart_waits_for_new_members_and_is_never_written_twice() -> None:
    restart = await setup()
    kafka, workloads = restart.kafka, restart.workloads
    before = set(kafka.cluster.groups["billing"].members)
    world = World(request(restart.spec), scaled=LABELS, now=restart.sim.now)
    assert await restart.run(world, Phase.AWAITING_APPROVAL) is Phase.AWAITING_APPROVAL, (
        world.status.message
    )
    assert world.status.risk is Risk.MEDIUM
    world.approve("bob", "carol")
    phase = await restart.run(world, Phase.SUCCEEDED)
    assert phase is Phase.SUCCEEDED, world.status.message

    after = set(kafka.cluster.groups["billing"].members)
    assert len(after) == 2
    assert not after & before
    snapshot = world.status.snapshot
    assert snapshot is not None
    assert sorted(snapshot.group("billing").member_ids) == sorted(before)  # type: ignore[union-attr]
    deployment = workloads.deployments[("shop", "billing-api")]
    assert deployment.annotations == {RESTARTED_AT: restart_stamp(snapshot)}
    assert deployment.patches == 1
    (stage,) = world.status.plan.stages  # type: ignore[union-attr]
    step, rejoin = stage.steps
    assert step.result.startswith("Applied: restarted shop/billing-api: ")
    assert rejoin.state is StepState.SUCCEEDED
    assert rejoin.result.startswith("AlreadyApplied: group billing rejoined: 2 member(s)")
    retried = [e.message for t in world.transitions for e in t.events if e.reason == "StepRetrying"]
    assert retried == [
        "step await-rejoin will be retried: group billing is Stable with 2 of 2 member(s); 1 "
        "from before the restart still in it (billing-api-1)"
    ]
    (billing,) = stage.progress  # judged with the gate's defaults, though no gate asked
    assert billing.verdict is ProgressVerdict.PASSED, billing.message
    assert billing.baseline is not None
    assert billing.baseline.seconds == pytest.approx(60, abs=0.1)

    again = await kinds.apply(kinds.StepPorts(kafka, workloads), step.operation, snapshot=snapshot)
    assert again.applied is False
    assert deployment.patches == 1


async def test_members_that_never_come_back_fail_the_step_and_nothing_is_undone() -> None:
    restart = await setup()
    world = World(request(restart.spec), scaled=LABELS, now=restart.sim.now)
    await restart.run(world, Phase.AWAITING_APPROVAL)
    world.approve("bob", "carol")
    phase = await restart.run(world, Phase.FAILED, rolls=False)  # the old pods stay
    assert phase is Phase.FAILED
    assert "step await-rejoin failed" in world.status.message
    assert "2 from before the restart still in it" in world.status.message
    assert "a rollout restart cannot be undone" in world.status.message
    assert restart.workloads.deployments[("shop", "billing-api")].patches == 1


async def test_new_pods_that_read_slower_fail_the_progress_gate() -> None:
    restart = await setup(after_restart=2.0)
    world = World(request(restart.spec), scaled=LABELS, now=restart.sim.now)
    await restart.run(world, Phase.AWAITING_APPROVAL)
    world.approve("bob", "carol")
    await restart.run(world, Phase.SUCCEEDED)
    (stage,) = world.status.plan.stages  # type: ignore[union-attr]
    (billing,) = stage.progress
    assert billing.verdict is ProgressVerdict.FAILED
    assert "ConsumerProgress: FAILED (billing read 2.0/s" in stage.gate_result
    assert world.phase is Phase.FAILED
    assert "nothing to roll back" in world.status.message
