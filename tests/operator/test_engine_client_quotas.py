"""Client quota changes through the engine and the operator's own actions on the Kafka fake:
applied, repeated without a write, rolled back after a failed progress gate and after
success, each read back from the fake."""

from datetime import timedelta
from typing import Any

import pytest
from engine_world import World, cluster_spec, request
from fake_runs import Consumption, SimClock, drive

from kcr import kinds
from kcr.kafka import QuotaAlteration, QuotaEntityType, QuotaKey
from kcr.kafka.fake import FakeCluster, FakeKafka
from kcr.kafka.readmodel import TopicPartition
from kcr.kinds.alter_client_quotas import AlterClientQuotas
from kcr.model import (
    Change,
    ConsumerProgressGate,
    HealthGates,
    KafkaChangeRequestSpec,
    Phase,
    ProgressVerdict,
    RequestedBy,
    Risk,
    Rollout,
)

pytestmark = pytest.mark.asyncio

USER, CLIENT = QuotaEntityType.USER, QuotaEntityType.CLIENT_ID
PRODUCE, CONSUME = QuotaKey.PRODUCER_BYTE_RATE, QuotaKey.CONSUMER_BYTE_RATE


def quotas(*entities: dict[str, Any]) -> AlterClientQuotas:
    return AlterClientQuotas.model_validate({"entities": list(entities)})


async def drafted(kafka: FakeKafka, member: AlterClientQuotas) -> KafkaChangeRequestSpec:
    change = Change.of(member)
    return KafkaChangeRequestSpec(
        cluster="prod",
        change=change,
        requested_by=RequestedBy(principal="alice", channel="mcp"),
        reason="the ingest backfill starves checkout",
        observed=await kinds.take_snapshot(kafka, change),
        rollout=Rollout(bake_seconds=10),
    )


def held(cluster: FakeCluster) -> dict[str, dict[str, float]]:
    """Every entity's quotas as the fake keeps them, by Kafka's label."""
    return {
        ",".join(f"{k}={v or '<default>'}" for k, v in sorted(entity)): values
        for entity, values in cluster.quotas.items()
    }


async def test_applied_repeated_and_rolled_back_after_success() -> None:
    kafka = FakeKafka()
    await kafka.alter_client_quotas(
        [QuotaAlteration(entity={USER: "ingest"}, values={PRODUCE: 4096, CONSUME: 1024})]
    )
    member = quotas(
        {"user": "ingest", "quotas": {"producer_byte_rate": 8192, "consumer_byte_rate": None}},
        {"user": "<default>", "clientId": "checkout", "quotas": {"producer_byte_rate": 2048}},
    )
    world = World(request(await drafted(kafka, member)))
    assert await drive(world, kafka, Phase.AWAITING_APPROVAL) is Phase.AWAITING_APPROVAL
    assert world.status.risk is Risk.HIGH, world.status.message  # a new limit on a default
    world.approve("bob", "carol")
    assert await drive(world, kafka, Phase.SUCCEEDED) is Phase.SUCCEEDED, world.status.message
    after = {
        "user=ingest": {"producer_byte_rate": 8192.0},
        "client-id=checkout,user=<default>": {"producer_byte_rate": 2048.0},
    }
    assert held(kafka.cluster) == after
    steps = [s for stage in world.status.plan.stages for s in stage.steps]  # type: ignore[union-attr]
    assert [s.result for s in steps] == [
        "Applied: user=ingest: removed consumer_byte_rate, producer_byte_rate=8192",
        "Applied: client-id=checkout,user=<default>: producer_byte_rate=2048",
    ]

    again = await kinds.apply(kafka, steps[0].operation)
    assert (again.applied, again.details) == (False, ["user=ingest: already as requested"])
    assert held(kafka.cluster) == after

    world.ask_rollback("dave")
    phase = await drive(world, kafka, Phase.AWAITING_ROLLBACK_APPROVAL)
    assert phase is Phase.AWAITING_ROLLBACK_APPROVAL, world.status.message
    world.approve_rollback("bob", "carol")
    assert await drive(world, kafka, Phase.ROLLED_BACK) is Phase.ROLLED_BACK, world.status.message
    assert held(kafka.cluster) == {
        "user=ingest": {"consumer_byte_rate": 1024.0, "producer_byte_rate": 4096.0}
    }


async def test_a_consumer_the_quota_slows_fails_the_progress_gate_and_the_old_quota_is_back() -> (
    None
):
    """The group whose members use the client id is watched: held to 1 KiB/s it reads one
    kilobyte record a second instead of twenty, the progress gate fails, and the rollback
    restores the old rate."""
    sim = SimClock()
    cluster = FakeCluster(clock=sim)
    kafka = FakeKafka(cluster, clock=sim)
    await cluster.create_topic("orders", 1, 1, {})
    orders = [TopicPartition(topic="orders", partition=0)]
    cluster.join("billing", "billing-1", client_id="billing-app", assignments=orders)
    await kafka.alter_client_quotas(
        [QuotaAlteration(entity={CLIENT: "billing-app"}, values={CONSUME: 1048576})]
    )

    def fetch_rate() -> float:
        """Records a second the quota lets the consumer read (1 KiB each), at most 20."""
        quota = cluster.quotas.get(frozenset({("client-id", "billing-app")}), {})
        return min(20.0, quota.get("consumer_byte_rate", 1e9) / 1024)

    flow = Consumption(cluster, sim, "orders", "billing", arriving=20, reading=fetch_rate)
    flow.advance()
    sim.now += timedelta(seconds=5)
    flow.advance()
    member = quotas({"clientId": "billing-app", "quotas": {"consumer_byte_rate": 1024}})
    spec = await drafted(kafka, member)
    assert spec.observed is not None
    assert spec.observed.consumers_of_topics == ["billing"]

    gates = HealthGates(consumer_progress=ConsumerProgressGate(baseline_seconds=30))
    world = World(request(spec), cluster=cluster_spec(default_gates=gates), now=sim.now)
    assert await drive(world, kafka, Phase.AWAITING_APPROVAL) is Phase.AWAITING_APPROVAL
    assert world.status.risk is Risk.MEDIUM
    assert world.status.blast_radius.consumer_groups == ["billing"]  # type: ignore[union-attr]
    world.approve("bob", "carol")
    phase = await drive(
        world,
        kafka,
        Phase.ROLLED_BACK,
        sim=sim,
        before_sample=flow.advance,
        before_step=flow.advance,
        before_gate=flow.advance,
    )
    assert phase is Phase.ROLLED_BACK, world.status.message
    (stage,) = world.status.plan.stages  # type: ignore[union-attr]
    (billing,) = stage.progress
    assert billing.verdict is ProgressVerdict.FAILED, billing.message
    assert billing.baseline is not None
    assert billing.baseline.rate == pytest.approx(20, abs=0.5)
    assert billing.bake is not None
    assert billing.bake.rate == pytest.approx(1, abs=0.1)
    assert "ConsumerProgress: FAILED (billing read 1.0/s" in stage.gate_result
    assert held(cluster) == {"client-id=billing-app": {"consumer_byte_rate": 1048576.0}}
