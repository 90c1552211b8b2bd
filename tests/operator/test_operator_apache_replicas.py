"""Replica moves and preferred leader elections through the real operator on three Apache
Kafka brokers, read back by clients that are not kcr: confluent-kafka's AdminClient for
replicas, leaders and broker configs, and Kafka's own ConfigCommand for the throttles."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from apache_world import (
    LiveReader,
    Production,
    admin_port,
    approved,
    drafted,
    group_committed,
)
from confluent_kafka import Producer, TopicCollection
from confluent_kafka.admin import (
    AdminClient,
    ConfigResource,
    ConfigSource,
    NewTopic,
    ResourceType,
)
from operator_harness import Harness
from waiting import eventually

from kcr.embedded.config_command import config_command
from kcr.embedded.kraft import KraftCluster
from kcr.kafka import KafkaPort
from kcr.kinds.elect_leaders import ElectLeaders
from kcr.kinds.placement import drain, replica_load
from kcr.kinds.reassign_partitions import ReassignPartitions
from kcr.model.cluster import ConsumerProgressGate, HealthGates

pytestmark = [
    pytest.mark.slow,
    pytest.mark.kafka,
    pytest.mark.asyncio,
]

WAIT = 120.0
# Kafka measures a throttled rate over at least ten seconds, so the first 1.25 MiB pass at
# once; each moved partition holds 1.2 MiB, and the rest copies at the rate for seconds.
THROTTLE = 128 * 1024
RECORDS = 3600
RECORD = b"x" * 1024
FINAL = ("Succeeded", "RolledBack", "RollbackFailed", "Failed", "Stale", "Invalid")
Layout = dict[int, tuple[int, list[int], list[int]]]


@pytest_asyncio.fixture
async def broker(apache_kafka_trio: KraftCluster) -> AsyncIterator[KafkaPort]:
    port = admin_port(apache_kafka_trio)
    try:
        yield port
    finally:
        await port.close()


@pytest.fixture
def admin(apache_kafka_trio: KraftCluster) -> AdminClient:
    return AdminClient(apache_kafka_trio.client_config())


def _layout(admin: AdminClient, topic: str) -> Layout:
    """Partition → (leader, replicas, ISR), as confluent-kafka's AdminClient reads them."""
    try:
        found = admin.describe_topics(TopicCollection([topic]))[topic].result(timeout=30)
    except Exception:  # noqa: BLE001 (not known to the broker that answered, yet)
        return {}
    return {
        p.id: (p.leader.id if p.leader else -1, [n.id for n in p.replicas], [n.id for n in p.isr])
        for p in found.partitions
    }


async def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, f"never saw {what}"
        await asyncio.sleep(0.3)


async def _topic(admin: AdminClient, name: str, replicas: list[list[int]]) -> Layout:
    """Placed by hand: a broker the controller still fences at start-up would get none."""
    new = NewTopic(name, num_partitions=len(replicas), replica_assignment=replicas)
    admin.create_topics([new])[name].result(timeout=30)
    await _until(
        lambda: (
            [r for _, (_, r, isr) in sorted(_layout(admin, name).items()) if set(isr) == set(r)]
            == replicas
        ),
        f"topic {name} on {replicas}, in sync",
    )
    return _layout(admin, name)


def _produce(cluster: KraftCluster, topic: str, count: int) -> None:
    producer = Producer(cluster.client_config() | {"linger.ms": 5, "acks": "all"})
    for index in range(count):
        producer.produce(topic, RECORD, key=str(index).encode())
        producer.poll(0)
    assert producer.flush(30) == 0, f"records to {topic} were not delivered"


def _rates(admin: AdminClient, broker: int) -> dict[str, str]:
    """The replication rates set on the broker itself (DYNAMIC_BROKER_CONFIG)."""
    resource = ConfigResource(ResourceType.BROKER, str(broker))
    configs = admin.describe_configs([resource])[resource].result(timeout=30)
    return {
        name: entry.value
        for name, entry in configs.items()
        if name.endswith("replication.throttled.rate")
        and entry.source == ConfigSource.DYNAMIC_BROKER_CONFIG.value
    }


def _dynamic(cluster: KraftCluster, entity_type: str, name: str | None = None) -> str:
    """What ``kafka-configs.sh --describe`` prints: the dynamic configs only."""
    named = ["--entity-name", name] if name is not None else []
    return config_command(cluster, "--describe", "--entity-type", entity_type, *named)


def _drain(layout: Layout, topic: str, broker: int) -> ReassignPartitions:
    assignment = {topic: {p: replicas for p, (_, replicas, _) in layout.items()}}
    targets = drain(assignment, [1, 2, 3], broker, replica_load(assignment))
    return ReassignPartitions(
        topics=targets, throttle_bytes_per_second=THROTTLE, batch_size=1, batch_timeout_seconds=60
    )


def _step(status: dict, step_id: str) -> str:  # type: ignore[type-arg]
    steps = [s for stage in status.get("plan", {}).get("stages", []) for s in stage["steps"]]
    return str(next(s for s in steps if s["id"] == step_id).get("result", ""))


async def test_a_drain_moves_every_replica_off_broker_1_throttled_and_leaves_no_throttle(
    on_trio: Harness,
    apache_kafka_trio: KraftCluster,
    broker: KafkaPort,
    admin: AdminClient,
    unique: str,
) -> None:
    topic = f"{unique}.drain"
    before = await _topic(admin, topic, [[1, 2], [2, 3], [3, 1]])
    await asyncio.to_thread(_produce, apache_kafka_trio, topic, RECORDS)
    member = _drain(before, topic, 1).model_copy(update={"batch_size": 10})
    moved = {p.partition for t in member.topics for p in t.partitions}
    assert moved == {p for p, (_, replicas, _) in before.items() if 1 in replicas}
    spec = await drafted(broker, member, cluster="trio")
    await approved(on_trio.kubectl, "drain", spec)

    throttled: list[dict[str, str]] = []

    def moving(status: dict) -> bool:  # type: ignore[type-arg]
        return _step(status, "await-1").startswith("not yet") or status.get("phase") in FINAL

    progress = await on_trio.kubectl.wait_for("drain", moving, "await-1 reporting progress", WAIT)
    throttled.append(await asyncio.to_thread(_rates, admin, 2))
    status = await on_trio.kubectl.wait_phase("drain", *FINAL, timeout=WAIT)

    assert status["phase"] == "Succeeded", status["message"]
    assert "left to copy at up to 128 KiB/s per broker" in _step(progress, "await-1")
    assert throttled == [
        {
            "leader.replication.throttled.rate": str(THROTTLE),
            "follower.replication.throttled.rate": str(THROTTLE),
        }
    ]
    assert status["dataMovement"]["bytes"] > len(moved) * RECORDS // 3 * len(RECORD) * 0.8
    after = _layout(admin, topic)
    for partition, (_, replicas, isr) in after.items():
        assert 1 not in replicas, f"{topic}/{partition} still on broker 1"
        assert len(replicas) == 2
        assert sorted(isr) == sorted(replicas)
    brokers = await asyncio.to_thread(_dynamic, apache_kafka_trio, "brokers")
    topics = await asyncio.to_thread(_dynamic, apache_kafka_trio, "topics", topic)
    assert "replication.throttled" not in brokers + topics


async def test_a_failed_gate_moves_the_replicas_back(
    on_trio: Harness,
    apache_kafka_trio: KraftCluster,
    broker: KafkaPort,
    admin: AdminClient,
    unique: str,
) -> None:
    topic, group = f"{unique}.moveback", f"{unique}-readers"
    before = await _topic(admin, topic, [[1, 2], [3, 1]])
    member = _drain(before, topic, 1).model_copy(update={"batch_size": 10})
    gates = HealthGates(consumer_progress=ConsumerProgressGate(baseline_seconds=6))
    readers = LiveReader(apache_kafka_trio, topic, group)
    with Production(apache_kafka_trio, topic, 20).running(), readers.running():
        await eventually(lambda: group_committed(broker, group), f"{group} committed", timeout=WAIT)
        spec = await drafted(broker, member, bake_seconds=6, gates=gates, cluster="trio")
        await approved(on_trio.kubectl, "moveback", spec)
        await on_trio.kubectl.wait_for(
            "moveback",
            lambda s: any(st.get("bakePositions") for st in s.get("plan", {}).get("stages", [])),
            "the bake after the move",
            timeout=WAIT,
        )
        readers.stop()  # the readers stop once the replicas moved
        status = await on_trio.kubectl.wait_phase("moveback", *FINAL, timeout=WAIT)

    assert status["phase"] == "RolledBack", status["message"]
    assert "ConsumerProgress: FAILED" in status["plan"]["stages"][0]["gateResult"]
    await _until(
        lambda: (
            {p: r for p, (_, r, _) in _layout(admin, topic).items()}
            == {p: r for p, (_, r, _) in before.items()}
        ),
        f"{topic} back on {before}",
    )
    brokers = await asyncio.to_thread(_dynamic, apache_kafka_trio, "brokers")
    topics = await asyncio.to_thread(_dynamic, apache_kafka_trio, "topics", topic)
    assert "replication.throttled" not in brokers + topics


async def test_an_election_after_a_broker_restart_gives_leadership_back(
    on_trio: Harness,
    apache_kafka_trio: KraftCluster,
    broker: KafkaPort,
    admin: AdminClient,
    unique: str,
) -> None:
    topic = f"{unique}.leaders"
    before = await _topic(admin, topic, [[1, 2, 3], [2, 3, 1], [3, 1, 2]])
    preferred_by_1 = [p for p, (_, replicas, _) in before.items() if replicas[0] == 1]
    assert preferred_by_1, before
    apache_kafka_trio.stop_node(1)
    await _until(
        lambda: all(leader != 1 for leader, _, _ in _layout(admin, topic).values()),
        "leadership leaving broker 1",
    )
    await asyncio.to_thread(apache_kafka_trio.start_node, 1)
    await _until(
        lambda: all(1 in isr for _, _, isr in _layout(admin, topic).values()),
        "broker 1 back in every ISR",
    )
    skewed = [
        p for p, (leader, replicas, _) in _layout(admin, topic).items() if leader != replicas[0]
    ]
    assert skewed == preferred_by_1, "broker 1 came back leading nothing"

    spec = await drafted(
        broker, ElectLeaders.model_validate({"topics": [{"topic": topic}]}), cluster="trio"
    )
    await approved(on_trio.kubectl, "elect", spec)
    status = await on_trio.kubectl.wait_phase("elect", *FINAL, timeout=WAIT)

    assert status["phase"] == "Succeeded", status["message"]
    assert status["risk"] == "MEDIUM"
    assert status["dataMovement"]["bytes"] == 0
    await _until(
        lambda: all(
            leader == replicas[0] for leader, replicas, _ in _layout(admin, topic).values()
        ),
        "every partition led by its preferred replica",
    )
    elected = ", ".join(f"{topic}/{p}" for p in skewed)
    assert elected in _step(status, "elect-leaders")
