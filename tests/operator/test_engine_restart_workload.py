"""A Deployment restart through the engine and the operator's own actions on the Kafka fake:
the pod template stamped once however often the step runs, the wait for every member to
come back with a new id, the lag gate after it, and a rollback that says it cannot undo."""

import itertools

import pytest
from engine_world import World, cluster_spec, request
from fake_runs import FakeDeployment, FakeWorkloads, drive

from kcr import kinds
from kcr.engine import DeploymentLabels, RunStep
from kcr.kafka.fake import FakeCluster, FakeKafka
from kcr.kinds.restart_workload import RESTARTED_AT, RestartWorkload, restart_stamp
from kcr.model import (
    Change,
    DeploymentRef,
    HealthGates,
    KafkaChangeRequestSpec,
    Phase,
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


async def setup() -> tuple[FakeKafka, FakeWorkloads, Pods, KafkaChangeRequestSpec]:
    cluster = FakeCluster()
    kafka = FakeKafka(cluster)
    await cluster.create_topic("orders", 2, 1, {})
    cluster.produce("orders", 0, 10)
    pods = Pods(cluster, replicas=2)
    cluster.commit("billing", {("orders", 0): 10, ("orders", 1): 0})
    deployment = FakeDeployment(replicas=2, on_restart=pods.restart)
    workloads = FakeWorkloads({("shop", "billing-api"): deployment})
    change = Change.of(RESTART)
    spec = KafkaChangeRequestSpec(
        cluster="prod",
        change=change,
        requested_by=RequestedBy(principal="alice", channel="mcp"),
        reason="billing holds a stale registry client",
        observed=await kinds.take_snapshot(kafka, change),
        rollout=Rollout(bake_seconds=10),
    )
    return kafka, workloads, pods, spec


async def test_restart_waits_for_new_members_and_is_never_written_twice() -> None:
    kafka, workloads, pods, spec = await setup()
    before = set(kafka.cluster.groups["billing"].members)
    world = World(request(spec), scaled_deployment=LABELS)
    assert await drive(world, kafka, Phase.AWAITING_APPROVAL, kube=workloads) is (
        Phase.AWAITING_APPROVAL
    ), world.status.message
    assert world.status.risk is Risk.MEDIUM
    world.approve("bob", "carol")
    phase = await drive(world, kafka, Phase.SUCCEEDED, kube=workloads, before_step=pods.roll_one)
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
    restart, rejoin = world.status.plan.stages[0].steps  # type: ignore[union-attr]
    assert restart.result.startswith("Applied: restarted shop/billing-api: ")
    assert rejoin.state is StepState.SUCCEEDED
    assert rejoin.result.startswith("AlreadyApplied: group billing rejoined: 2 member(s)")
    retried = [e.message for t in world.transitions for e in t.events if e.reason == "StepRetrying"]
    assert retried == [
        "step await-rejoin will be retried: group billing is Stable with 2 of 2 member(s); 1 "
        "from before the restart still in it (billing-api-1)"
    ]

    again = await kinds.apply(
        kinds.StepPorts(kafka, workloads), restart.operation, snapshot=snapshot
    )
    assert again.applied is False
    assert deployment.patches == 1


async def test_members_that_never_come_back_fail_the_step_and_nothing_is_undone() -> None:
    kafka, workloads, _pods, spec = await setup()
    world = World(request(spec), scaled_deployment=LABELS)
    await drive(world, kafka, Phase.AWAITING_APPROVAL, kube=workloads)
    world.approve("bob", "carol")
    phase = await drive(world, kafka, Phase.FAILED, kube=workloads)  # the old pods stay
    assert phase is Phase.FAILED
    assert "step await-rejoin failed" in world.status.message
    assert "2 from before the restart still in it" in world.status.message
    assert "a rollout restart cannot be undone" in world.status.message
    assert workloads.deployments[("shop", "billing-api")].patches == 1


async def test_a_group_that_reads_slower_after_the_restart_fails_the_gate() -> None:
    kafka, workloads, pods, spec = await setup()
    world = World(
        request(spec),
        cluster=cluster_spec(default_gates=HealthGates(max_lag_growth=5)),
        scaled_deployment=LABELS,
    )
    await drive(world, kafka, Phase.AWAITING_APPROVAL, kube=workloads)
    world.approve("bob", "carol")

    def stuck(_gate: object) -> None:
        kafka.cluster.produce("orders", 1, 40)  # the new pods do not commit

    await drive(
        world, kafka, Phase.SUCCEEDED, kube=workloads, before_step=pods.roll_one, before_gate=stuck
    )
    (stage,) = world.status.plan.stages  # type: ignore[union-attr]
    assert "ConsumerLag: FAILED (lag grew too much: billing lag 40, was 0" in stage.gate_result
    assert world.phase is Phase.FAILED
    assert "nothing to roll back" in world.status.message
