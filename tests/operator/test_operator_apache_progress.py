"""The consumer progress gate on Apache Kafka, with live consumers and producers: a benign
change baked through a traffic peak stays; an ACL revoke that stops a live consumer is
rolled back by the gate, and the broker is read back to show the binding restored and the
consumer reading again."""

import pytest
from apache_world import (
    LiveReader,
    Production,
    approved,
    drafted,
    group_committed,
    reads_again,
)
from operator_harness import Harness
from waiting import eventually

from kcr import kinds
from kcr.embedded.kraft import KraftCluster
from kcr.kafka import AclFilter, KafkaPort
from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.create_topic import CreateTopic
from kcr.model import AclBinding, ConsumerProgressGate, GroupProgress
from kcr.model.cluster import HealthGates

pytestmark = [pytest.mark.slow, pytest.mark.kafka, pytest.mark.asyncio]

FINAL = ("Succeeded", "RolledBack", "RollbackFailed", "Failed", "Stale", "Invalid")
WAIT = 90.0
GATES = HealthGates(consumer_progress=ConsumerProgressGate(baseline_seconds=8, min_percent=50))
BAKE_SECONDS = 10
STEADY, PEAK = 20, 300
"""Records a second: the evening's traffic, and its peak."""


async def baking(harness: Harness, name: str) -> None:
    await harness.kubectl.wait_for(
        name,
        lambda s: any(stage.get("bakePositions") for stage in s.get("plan", {}).get("stages", [])),
        "the bake",
        timeout=WAIT,
    )


def verdict_of(status: dict, group: str) -> GroupProgress:  # type: ignore[type-arg]
    (stage,) = status["plan"]["stages"]
    found = [GroupProgress.model_validate(p) for p in stage["progress"] if p["group"] == group]
    assert found, stage
    return found[0]


async def test_a_benign_change_baked_through_a_traffic_peak_succeeds(
    on_apache: Harness, apache_kafka: KraftCluster, broker: KafkaPort, unique: str
) -> None:
    topic, group = f"{unique}.orders", f"{unique}-billing"
    await kinds.apply(broker, CreateTopic(topic=topic, partitions=2, replication_factor=1))
    traffic = Production(apache_kafka, topic, STEADY)
    with traffic.running(), LiveReader(apache_kafka, topic, group).running():
        await eventually_committed(broker, group)
        change = AlterTopicConfig(topics=[topic], set={"retention.ms": "7200000"})
        spec = await drafted(broker, change, bake_seconds=BAKE_SECONDS, gates=GATES)
        await approved(on_apache.kubectl, "tune", spec)
        await baking(on_apache, "tune")
        traffic.per_second = PEAK  # the evening peak begins during the bake
        status = await on_apache.kubectl.wait_phase("tune", *FINAL, timeout=WAIT)

    assert status["phase"] == "Succeeded", status["message"]
    billing = verdict_of(status, group)
    assert billing.verdict == "Passed", billing.message
    assert billing.baseline is not None
    assert billing.bake is not None
    assert billing.bake.arrived / billing.bake.seconds > 5 * billing.baseline.rate
    assert billing.bake.rate > 2 * billing.baseline.rate, "the consumer kept up with the peak"
    (configs,) = await broker.topic_configs([topic])
    assert configs.configs["retention.ms"].value == "7200000"


async def test_an_acl_revoke_that_stops_a_live_consumer_is_rolled_back_by_the_gate(
    on_apache: Harness, apache_kafka: KraftCluster, broker: KafkaPort, unique: str
) -> None:
    topic, group = f"{unique}.invoices", f"{unique}-invoicing"
    await kinds.apply(broker, CreateTopic(topic=topic, partitions=1, replication_factor=1))
    read = AclBinding(
        resource_type="Topic", resource_name=topic, principal="User:alice", operation="Read"
    )
    access = [
        read,
        read.model_copy(update={"operation": "Describe"}),
        read.model_copy(update={"resource_type": "Group", "resource_name": group}),
    ]
    await kinds.apply(broker, AlterAcls(add=access))
    with (
        Production(apache_kafka, topic, STEADY).running(),
        LiveReader(apache_kafka, topic, group, user="alice").running(),
    ):
        await eventually_committed(broker, group)
        spec = await drafted(
            broker, AlterAcls(remove=[read]), bake_seconds=BAKE_SECONDS, gates=GATES
        )
        assert spec.observed is not None
        assert group in spec.observed.consumers_of_topics
        await approved(on_apache.kubectl, "revoke", spec)
        status = await on_apache.kubectl.wait_phase("revoke", *FINAL, timeout=WAIT)
        resumed = await reads_again(broker, group)

    assert status["phase"] == "RolledBack", status["message"]
    (stage,) = status["plan"]["stages"]
    assert stage["gateState"] == "Failed"
    assert f"ConsumerProgress: FAILED ({group} read " in stage["gateResult"]
    invoicing = verdict_of(status, group)
    assert invoicing.verdict == "Failed"
    assert invoicing.baseline is not None
    assert invoicing.bake is not None
    assert invoicing.baseline.rate > STEADY / 2
    assert invoicing.bake.consumed < invoicing.bake.arrived / 4
    assert "below 50% of its baseline" in invoicing.message
    restored = await broker.describe_acls(AclFilter(principal="User:alice", resource_name=topic))
    assert read.key() in {b.key() for b in restored}
    assert resumed > 0, "alice's consumer reads again once the rollback restored its binding"


async def eventually_committed(broker: KafkaPort, group: str) -> None:
    async def committed() -> bool:
        return await group_committed(broker, group) > 0

    await eventually(committed, f"{group} committed", timeout=WAIT)
