"""The operator's flows on real Kubernetes and real Kafka: draft, review, approve as a
different person, staged execution with gates, rollback on a failed gate, a stale plan."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from confluent_kafka import Consumer, Producer

from kcr import kinds
from kcr.kafka.port import KafkaPort
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.create_topic import CreateTopic
from kcr.model import Rollout

from .cluster import ALICE, BOB, Cluster, Kafka
from .drafts import document, observe, progress_gate

pytestmark = pytest.mark.e2e

WEEK = "604800000"
TWO_WEEKS = "1209600000"
TRAFFIC_SECONDS = 180.0


def retention(kafka: Kafka, topic: str) -> str | None:
    async def read() -> str | None:
        port: KafkaPort = kafka.port()
        try:
            (configs,) = await port.topic_configs([topic])
        finally:
            await port.close()
        return configs.value("retention.ms")

    return kafka.run(read())


def make_topic(kafka: Kafka, topic: str, **configs: str) -> None:
    async def create() -> None:
        port: KafkaPort = kafka.port()
        try:
            await kinds.apply(
                port, CreateTopic(topic=topic, partitions=1, replication_factor=1, configs=configs)
            )
        finally:
            await port.close()

    kafka.run(create())


class Reader:
    """A live consumer of ``group`` committing every second, until ``stop`` is called."""

    def __init__(self, kafka: Kafka, topic: str, group: str) -> None:
        self.kafka, self.topic, self.group = kafka, topic, group
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": self.kafka.bootstrap,
                "group.id": self.group,
                "auto.offset.reset": "earliest",
                "auto.commit.interval.ms": 1000,
            }
        )
        deadline = time.monotonic() + TRAFFIC_SECONDS
        try:
            consumer.subscribe([self.topic])
            while not self.stopped.is_set() and time.monotonic() < deadline:
                consumer.poll(0.2)
        finally:
            consumer.close()

    @contextmanager
    def running(self) -> Iterator["Reader"]:
        self.thread.start()
        try:
            yield self
        finally:
            self.stop()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(TRAFFIC_SECONDS)


@contextmanager
def traffic(kafka: Kafka, topic: str) -> Iterator[None]:
    """Keep producing to ``topic`` (bounded in time) while the block runs."""
    stop = threading.Event()

    def produce() -> None:
        producer = Producer({"bootstrap.servers": kafka.bootstrap, "linger.ms": 0})
        deadline = time.monotonic() + TRAFFIC_SECONDS
        while not stop.is_set() and time.monotonic() < deadline:
            producer.produce(topic, b"x" * 100)
            producer.poll(0)
            time.sleep(0.01)
        producer.flush(30)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(TRAFFIC_SECONDS)


def test_create_topic_from_draft_to_succeeded(cluster: Cluster, kafka: Kafka, name: str) -> None:
    topic = f"e2e.{name}"
    member = CreateTopic(
        topic=topic, partitions=3, replication_factor=1, configs={"retention.ms": WEEK}
    )
    request = document(name, member, ALICE, observed=observe(kafka, member))
    assert cluster.create(request, ALICE).returncode == 0
    try:
        status = cluster.wait_phase(name, "AwaitingApproval")
        assert status["risk"] == "LOW"
        listed = cluster.kubectl_kcr(BOB, "list")
        assert name in listed.output
        assert "AwaitingApproval" in listed.output
        approved = cluster.kubectl_kcr(BOB, "approve", name)
        assert approved.exit_code == 0, approved.output
        status = cluster.wait_phase(name, "Succeeded", "Failed", "RolledBack", "Invalid")
        assert status["phase"] == "Succeeded", status.get("message")
        assert retention(kafka, topic) == WEEK
        described = cluster.kubectl_kcr(BOB, "describe", name)
        assert "Succeeded" in described.output
        assert BOB.username in described.output
    finally:
        cluster.delete(name)


def bake_began(cluster: Cluster, name: str) -> None:
    deadline = time.monotonic() + TRAFFIC_SECONDS
    while time.monotonic() < deadline:
        stages = (cluster.request(name).get("status", {}).get("plan") or {}).get("stages", [])
        if any(stage.get("bakePositions") for stage in stages):
            return
        time.sleep(0.5)
    pytest.fail(f"{name}'s bake did not begin")


def test_a_consumer_that_stops_during_the_bake_rolls_the_change_back(
    cluster: Cluster, kafka: Kafka, name: str
) -> None:
    topic, group = f"e2e.{name}", f"e2e-{name}"
    make_topic(kafka, topic, **{"retention.ms": WEEK})
    reader = Reader(kafka, topic, group)
    with traffic(kafka, topic), reader.running():
        time.sleep(5)  # the group commits before the draft, so the draft sees it reading
        member = AlterTopicConfig(topics=[topic], set={"retention.ms": TWO_WEEKS})
        observed = observe(kafka, member)
        assert group in observed.consumers_of_topics
        rollout = progress_gate(baseline_seconds=20, bake_seconds=20)
        request = document(name, member, ALICE, observed=observed, rollout=rollout)
        assert cluster.create(request, ALICE).returncode == 0
        try:
            cluster.wait_phase(name, "AwaitingApproval")
            assert cluster.kubectl_kcr(BOB, "approve", name).exit_code == 0
            bake_began(cluster, name)
            reader.stop()  # what a revoked ACL does to it (tests/operator revokes one)
            status = cluster.wait_phase(name, "RolledBack", "RollbackFailed", "Succeeded", "Failed")
        except BaseException:
            cluster.delete(name)
            raise
    try:
        assert status["phase"] == "RolledBack", status.get("message")
        assert retention(kafka, topic) == WEEK
        gates = [stage["gateState"] for stage in status["plan"]["stages"]]
        assert "Failed" in gates
        described = cluster.kubectl_kcr(BOB, "describe", name)
        assert "RolledBack" in described.output
    finally:
        cluster.delete(name)


def test_a_stale_plan_is_refused(cluster: Cluster, kafka: Kafka, name: str) -> None:
    topic = f"e2e.{name}"
    make_topic(kafka, topic, **{"retention.ms": WEEK})
    member = AlterTopicConfig(topics=[topic], set={"retention.ms": TWO_WEEKS})
    request = document(
        name, member, ALICE, observed=observe(kafka, member), rollout=Rollout(bake_seconds=0)
    )
    assert cluster.create(request, ALICE).returncode == 0
    try:
        cluster.wait_phase(name, "AwaitingApproval")

        async def change_behind_its_back() -> None:
            port: KafkaPort = kafka.port()
            try:
                await kinds.apply(
                    port, AlterTopicConfig(topics=[topic], set={"retention.ms": "3600000"})
                )
            finally:
                await port.close()

        kafka.run(change_behind_its_back())
        diff = cluster.kubectl_kcr(BOB, "diff", name, "--exit-code")
        assert diff.exit_code == 1, diff.output
        assert "+      value: '3600000'" in diff.output
        assert cluster.kubectl_kcr(BOB, "approve", name).exit_code == 0
        status = cluster.wait_phase(name, "Stale", "Succeeded", "Failed")
        assert status["phase"] == "Stale", status.get("message")
        assert retention(kafka, topic) == "3600000", "a stale plan writes nothing"
    finally:
        cluster.delete(name)
