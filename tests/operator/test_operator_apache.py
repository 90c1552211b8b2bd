"""Every change kind through the real operator on Apache Kafka (KRaft, SASL, the
StandardAuthorizer), with the broker read back after each step by an independent client:
what the operator wrote, and what its automatic rollback restored."""

import asyncio

import pytest
from apache_world import (
    ConsumerPods,
    LiveReader,
    Production,
    admin_port,
    approved,
    authorizer_admits_producer,
    commit,
    drafted,
    follow_deployment,
    group_committed,
    produce,
)
from operator_harness import NAMESPACE, Harness
from waiting import eventually

from kcr import kinds
from kcr.embedded.kraft import KraftCluster
from kcr.kafka import KafkaPort
from kcr.kafka.errors import NotFoundError
from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.delete_topic import DeleteTopic
from kcr.kinds.increase_partitions import IncreasePartitions
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.model import AclBinding
from kcr.model.change import OffsetTarget
from kcr.model.cluster import ConsumerProgressGate, HealthGates
from kcr.model.observed import ConfigSource

pytestmark = [pytest.mark.slow, pytest.mark.kafka, pytest.mark.asyncio]

FINAL = ("Succeeded", "RolledBack", "RollbackFailed", "Failed", "Stale", "Invalid")
WAIT = 60.0


async def create_topic(broker: KafkaPort, topic: str, partitions: int = 1, **configs: str) -> None:
    result = await kinds.apply(
        broker,
        CreateTopic(topic=topic, partitions=partitions, replication_factor=1, configs=configs),
    )
    assert result.applied or result.message


async def committed(broker: KafkaPort, group: str, topic: str) -> int | None:
    (offsets,) = await broker.committed_offsets([group], topics=[topic])
    (partition,) = offsets.offsets
    return partition.offset


async def known_to_every_broker(broker: KafkaPort, topics: list[str]) -> None:
    """A new topic reaches each broker's metadata a moment after the controller commits it."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        try:
            await broker.topic_configs(topics)
            if len(await broker.describe_topics(topics)) == len(topics):
                return
        except NotFoundError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.2)


async def finished(harness: Harness, name: str) -> dict:  # type: ignore[type-arg]
    return await harness.kubectl.wait_phase(name, *FINAL, timeout=WAIT)


async def test_create_topic_then_rollback_leaves_no_topic(
    on_apache: Harness, broker: KafkaPort, unique: str
) -> None:
    topic = f"{unique}.orders"
    spec = await drafted(broker, CreateTopic(topic=topic, partitions=3, replication_factor=1))
    await approved(on_apache.kubectl, "create", spec)
    status = await finished(on_apache, "create")

    assert status["phase"] == "Succeeded", status["message"]
    (info,) = await broker.describe_topics([topic])
    assert info.partition_count == 3

    review = await on_apache.kubectl.ask_rollback("create", "dave")
    assert review["rollbackReview"]["risk"] == "CRITICAL"
    await on_apache.kubectl.approve_rollback("create", "bob", "carol")
    rolled = await on_apache.kubectl.wait_phase(
        "create", "RolledBack", "RollbackFailed", timeout=WAIT
    )
    assert rolled["phase"] == "RolledBack", rolled["message"]
    assert topic not in {t.name for t in await broker.list_topics()}


async def test_a_failed_gate_restores_the_previous_override_and_removes_a_new_one(
    on_apache: Harness, apache_kafka: KraftCluster, broker: KafkaPort, unique: str
) -> None:
    topic, group = f"{unique}.payments", f"{unique}-billing"
    await create_topic(broker, topic, **{"retention.ms": "3600000"})
    change = AlterTopicConfig(
        topics=[topic], set={"retention.ms": "7200000", "max.message.bytes": "2097152"}
    )
    gates = HealthGates(consumer_progress=ConsumerProgressGate(baseline_seconds=6))
    billing = LiveReader(apache_kafka, topic, group)
    with Production(apache_kafka, topic, 20).running(), billing.running():
        await eventually(lambda: group_committed(broker, group), f"{group} committed", timeout=WAIT)
        spec = await drafted(broker, change, bake_seconds=6, gates=gates)
        await approved(on_apache.kubectl, "alter", spec)
        await on_apache.kubectl.wait_for(
            "alter",
            lambda s: any(st.get("bakePositions") for st in s.get("plan", {}).get("stages", [])),
            "the bake",
            timeout=WAIT,
        )
        billing.stop()  # the billing consumers stop once the change is in
        status = await finished(on_apache, "alter")

    assert status["phase"] == "RolledBack", status["message"]
    assert "ConsumerProgress: FAILED" in status["plan"]["stages"][0]["gateResult"]
    (configs,) = await broker.topic_configs([topic])
    assert configs.configs["retention.ms"].value == "3600000"
    assert configs.configs["retention.ms"].source == ConfigSource.TOPIC_OVERRIDE
    assert configs.configs["max.message.bytes"].source != ConfigSource.TOPIC_OVERRIDE


async def test_offset_reset_stops_the_consumers_and_rollback_restores_the_live_offsets(
    on_apache: Harness, apache_kafka: KraftCluster, broker: KafkaPort, unique: str
) -> None:
    topic, group = f"{unique}.clicks", f"{unique}-clicks-reader"
    await create_topic(broker, topic)
    produce(apache_kafka, topic, 10)
    await on_apache.kubectl.create_deployment(
        NAMESPACE, "clicks-reader", 1, labels={"kcr.dev/consumer-group": group}
    )
    commit(apache_kafka, group, {(topic, 0): 4})
    reset = ResetConsumerGroupOffsets(
        group=group,
        topics=[topic],
        to=OffsetTarget(earliest=True),
        scale_deployment={"namespace": NAMESPACE, "name": "clicks-reader"},
    )
    spec = await drafted(broker, reset)
    assert spec.observed is not None
    # After the draft, the group moves on: the rollback must restore this, not the draft's 4.
    commit(apache_kafka, group, {(topic, 0): 7})

    pods = ConsumerPods(apache_kafka, group, topic)
    done = asyncio.Event()
    with pods.running():
        follower = asyncio.create_task(
            follow_deployment(on_apache.kubectl, NAMESPACE, "clicks-reader", pods, done)
        )
        await approved(on_apache.kubectl, "reset", spec)
        status = await finished(on_apache, "reset")
        done.set()
        replicas_seen = await follower

    assert status["phase"] == "Succeeded", status["message"]
    assert replicas_seen[:3] == [1, 0, 1]
    assert pods.stops >= 1
    assert await committed(broker, group, topic) == 0
    assert await on_apache.kubectl.deployment_replicas(NAMESPACE, "clicks-reader") == 1

    await on_apache.kubectl.ask_rollback("reset", "dave")
    await on_apache.kubectl.approve_rollback("reset", "bob", "carol")
    rolled = await on_apache.kubectl.wait_phase(
        "reset", "RolledBack", "RollbackFailed", timeout=WAIT
    )
    assert rolled["phase"] == "RolledBack", rolled["message"]
    assert await committed(broker, group, topic) == 7


async def test_partition_increase_runs_and_says_it_cannot_be_undone(
    on_apache: Harness, broker: KafkaPort, unique: str
) -> None:
    topic = f"{unique}.events"
    await create_topic(broker, topic, partitions=2)
    spec = await drafted(broker, IncreasePartitions(topic=topic, partitions=5))
    await approved(on_apache.kubectl, "grow", spec)
    status = await finished(on_apache, "grow")

    assert status["phase"] == "Succeeded", status["message"]
    (info,) = await broker.describe_topics([topic])
    assert info.partition_count == 5
    undo = status["rollbackPlan"]
    assert undo["reversible"] is False
    assert any("cannot be removed" in reason for reason in undo["irreversibleReasons"]), undo


async def test_acl_grant_and_revoke_as_the_authorizer_sees_them(
    on_apache: Harness, apache_kafka: KraftCluster, broker: KafkaPort, unique: str
) -> None:
    topic = f"{unique}.audit"
    await create_topic(broker, topic)
    assert not authorizer_admits_producer(apache_kafka, topic, "alice")
    bindings = [
        AclBinding(
            resource_type="Topic",
            resource_name=topic,
            pattern_type="Literal",
            principal="User:alice",
            host="*",
            operation=operation,
            permission="Allow",
        )
        for operation in ("Write", "Describe")
    ]

    grant = await drafted(broker, AlterAcls(add=bindings))
    await approved(on_apache.kubectl, "grant", grant)
    granted = await finished(on_apache, "grant")
    assert granted["phase"] == "Succeeded", granted["message"]
    assert authorizer_admits_producer(apache_kafka, topic, "alice")

    revoke = await drafted(broker, AlterAcls(remove=bindings))
    await approved(on_apache.kubectl, "revoke", revoke)
    revoked = await finished(on_apache, "revoke")
    assert revoked["phase"] == "Succeeded", revoked["message"]
    assert not authorizer_admits_producer(apache_kafka, topic, "alice")


async def test_delete_topic_removes_it_from_the_broker(
    on_apache: Harness, apache_kafka: KraftCluster, broker: KafkaPort, unique: str
) -> None:
    topic = f"{unique}.old"
    await create_topic(broker, topic)
    produce(apache_kafka, topic, 2)
    spec = await drafted(broker, DeleteTopic(topic=topic))
    await approved(on_apache.kubectl, "delete", spec)
    status = await finished(on_apache, "delete")

    assert status["phase"] == "Succeeded", status["message"]
    assert topic not in {t.name for t in await broker.list_topics()}


async def test_a_broker_lost_during_the_bake_fails_the_gate_and_rolls_back(
    on_trio: Harness, apache_kafka_trio: KraftCluster, unique: str
) -> None:
    broker = admin_port(apache_kafka_trio)
    try:
        topics = [f"{unique}.ledger-{i}" for i in range(2)]
        for topic in topics:
            await kinds.apply(
                broker, CreateTopic(topic=topic, partitions=3, replication_factor=3, configs={})
            )
        await known_to_every_broker(broker, topics)
        change = AlterTopicConfig(topics=topics, set={"segment.ms": "3600000"})
        spec = await drafted(broker, change, bake_seconds=12, cluster="trio")
        await approved(on_trio.kubectl, "tune", spec)
        await on_trio.kubectl.wait_for(
            "tune",
            lambda s: (
                any(c.get("reason") == "Baking" for c in s.get("conditions", []))
                or any(h.get("reason") == "Baking" for h in s.get("history", []))
            ),
            "the canary's bake",
            timeout=WAIT,
        )
        apache_kafka_trio.stop_node(3)
        status = await finished(on_trio, "tune")

        assert status["phase"] == "RolledBack", status["message"]
        canary = status["plan"]["stages"][0]
        assert canary["gateState"] == "Failed"
        assert "UnderReplicatedPartitions: FAILED" in canary["gateResult"]
        for configs in await broker.topic_configs(topics):
            assert configs.configs["segment.ms"].source != ConfigSource.TOPIC_OVERRIDE
    finally:
        await broker.close()
