"""The operator against Apache Kafka: the KafkaCluster and its SASL Secret on the emulator,
independent clients (confluent-kafka's own producer and consumer, as a given user) to make
traffic and to ask the authorizer, and consumer processes that stand for a Deployment's
pods, started and stopped as the Deployment's replicas change."""

import asyncio
import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from operator_harness import DEPLOYMENTS, NAMESPACE, Kubectl

from kcr import kinds
from kcr.embedded.kraft import ADMIN, SASL_SECRET, KraftCluster, password_of
from kcr.kafka import KafkaPort, reader
from kcr.kafka.connect import open_kafka
from kcr.model import Change, KafkaChangeRequestSpec, RequestedBy, Rollout
from kcr.model.base import KubeModel
from kcr.model.cluster import HealthGates

WAIT_SECONDS = 30.0
POLL_SECONDS = 0.1


async def apply_cluster(kubectl: Kubectl, cluster: KraftCluster, name: str = "apache") -> None:
    """The KafkaCluster as a user writes it: bootstrap servers and a Secret for SASL."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SASL_SECRET, "namespace": NAMESPACE},
        "data": {
            "username": base64.b64encode(ADMIN.encode()).decode(),
            "password": base64.b64encode(password_of(ADMIN).encode()).decode(),
        },
    }
    response = await kubectl.client.post(f"/api/v1/namespaces/{NAMESPACE}/secrets", json=secret)
    if response.status_code != 409:
        response.raise_for_status()
    spec = cluster.spec().model_dump(mode="json", by_alias=True, exclude_none=True)
    spec.pop("bootstrapServers")
    await kubectl.apply_cluster(name, bootstrapServers=cluster.bootstrap, **spec)


def admin_port(cluster: KraftCluster) -> KafkaPort:
    return open_kafka(cluster.spec(), cluster.credentials())


async def drafted(
    broker: KafkaPort,
    member: KubeModel,
    *,
    bake_seconds: int = 0,
    gates: HealthGates | None = None,
    cluster: str = "apache",
) -> KafkaChangeRequestSpec:
    """A draft as the MCP server makes it: the live state it was based on in spec.observed."""
    change = Change.of(member)
    return KafkaChangeRequestSpec(
        cluster=cluster,
        change=change,
        requested_by=RequestedBy(principal="User:alice", channel="mcp"),
        reason="operator flow on Apache Kafka",
        observed=await kinds.take_snapshot(broker, change),
        rollout=Rollout(bake_seconds=bake_seconds, gates=gates),
    )


async def approved(kubectl: Kubectl, name: str, spec: KafkaChangeRequestSpec) -> None:
    await kubectl.create(name, spec)
    await kubectl.wait_phase(name, "AwaitingApproval", timeout=WAIT_SECONDS)
    await kubectl.approve(name, "bob", "carol")


def produce(cluster: KraftCluster, topic: str, count: int, user: str = ADMIN) -> None:
    """``count`` records, one per batch, delivered or raised (the authorizer's refusal too)."""
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(error)

    producer = Producer(
        cluster.client_config(user)
        | {"linger.ms": 0, "batch.num.messages": 1, "message.timeout.ms": 10000}
    )
    for index in range(count):
        producer.produce(topic, f"record-{index}".encode(), on_delivery=delivered)
    left = producer.flush(15)
    if failures:
        raise KafkaException(failures[0])
    if left:
        raise TimeoutError(f"{left} records to {topic} were not delivered")


def authorizer_admits_producer(cluster: KraftCluster, topic: str, user: str) -> bool:
    """Ask the broker itself: does ``user`` get to write one record to ``topic``?"""
    try:
        produce(cluster, topic, 1, user=user)
    except KafkaException as error:
        code = error.args[0].code()
        if code in (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError._MSG_TIMED_OUT):
            return False
        raise
    return True


def commit(cluster: KraftCluster, group: str, offsets: dict[tuple[str, int], int]) -> None:
    from confluent_kafka import TopicPartition  # noqa: PLC0415

    consumer = Consumer(cluster.client_config() | {"group.id": group})
    try:
        consumer.commit(
            offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False
        )
    finally:
        consumer.close()


class ConsumerPods:
    """Consumer processes standing for a Deployment's pods: one consumer of ``group`` runs
    while the Deployment has replicas, and leaves the group when it is scaled to zero, as
    the pods' containers would. Each start is counted, so a test can see the restart."""

    def __init__(self, cluster: KraftCluster, group: str, topic: str) -> None:
        self.cluster = cluster
        self.group = group
        self.topic = topic
        self.starts = 0
        self.stops = 0
        self._stop = threading.Event()
        self._wanted = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"pods-{group}", daemon=True)

    def _consumer(self) -> Consumer:
        consumer = Consumer(
            self.cluster.client_config()
            | {
                "group.id": self.group,
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 500,
                # The pods read but never commit, so the offsets are only what kcr wrote.
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        consumer.subscribe([self.topic])
        return consumer

    def _run(self) -> None:
        consumer: Consumer | None = None
        while not self._stop.is_set():
            if self._wanted.is_set() and consumer is None:
                consumer = self._consumer()
                self.starts += 1
            elif not self._wanted.is_set() and consumer is not None:
                consumer.close()
                consumer = None
                self.stops += 1
            if consumer is not None:
                consumer.poll(POLL_SECONDS)
            else:
                self._wanted.wait(POLL_SECONDS)
        if consumer is not None:
            consumer.close()

    def set_replicas(self, replicas: int) -> None:
        if replicas > 0:
            self._wanted.set()
        else:
            self._wanted.clear()

    @contextmanager
    def running(self) -> Iterator["ConsumerPods"]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._wanted.set()
            self._thread.join(WAIT_SECONDS)


async def follow_deployment(
    kubectl: Kubectl, namespace: str, name: str, pods: ConsumerPods, until: asyncio.Event
) -> list[int]:
    """Mirror the Deployment's replicas onto the pods until ``until``; the replicas seen."""
    seen: list[int] = []
    deadline = time.monotonic() + 120
    path = f"{DEPLOYMENTS.format(namespace=namespace)}/{name}"
    while not until.is_set() and time.monotonic() < deadline:
        response = await kubectl.client.get(path)
        response.raise_for_status()
        replicas = int(response.json()["spec"]["replicas"])
        if not seen or seen[-1] != replicas:
            seen.append(replicas)
        pods.set_replicas(replicas)
        await asyncio.sleep(POLL_SECONDS)
    return seen


def config_source(configs: Any, key: str) -> tuple[str | None, str]:
    entry = configs.configs[key]
    return entry.value, str(entry.source)


class Production:
    """A producer thread writing ``per_second`` records to ``topic`` until stopped; the rate
    can be raised (an evening peak) while it runs. Bounded by ``WAIT_SECONDS * 10``."""

    def __init__(self, cluster: KraftCluster, topic: str, per_second: float) -> None:
        self.cluster = cluster
        self.topic = topic
        self.per_second = per_second
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"produce-{topic}", daemon=True)

    def _run(self) -> None:
        producer = Producer(self.cluster.client_config() | {"linger.ms": 5})
        deadline = time.monotonic() + WAIT_SECONDS * 10
        while not self._stop.is_set() and time.monotonic() < deadline:
            producer.produce(self.topic, f"order-{self.sent}".encode())
            producer.poll(0)
            self.sent += 1
            self._stop.wait(1 / self.per_second)
        producer.flush(15)

    @contextmanager
    def running(self) -> Iterator["Production"]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(WAIT_SECONDS)


class LiveReader:
    """A consumer service reading ``topic`` as ``user`` in ``group``, committing every
    second; an error (a refused fetch) restarts it a second later, as kcr.kafka.reader does."""

    def __init__(self, cluster: KraftCluster, topic: str, group: str, user: str = ADMIN) -> None:
        self.config: dict[str, object] = cluster.client_config(user) | {
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            "auto.commit.interval.ms": 1000,
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500,
        }
        self.topic = topic
        self.stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"read-{group}", daemon=True)

    def _run(self) -> None:
        reader.run(self.config, [self.topic], self.stopped)

    def stop(self) -> None:
        self.stopped.set()
        self._thread.join(WAIT_SECONDS)

    @contextmanager
    def running(self) -> Iterator["LiveReader"]:
        self._thread.start()
        try:
            yield self
        finally:
            self.stop()


async def group_committed(broker: KafkaPort, group: str) -> int:
    """The sum of ``group``'s committed offsets, read back from the broker; 0 without any."""
    positions = await broker.consumer_positions([group])
    found = positions.group(group)
    return found.committed if found else 0


async def reads_again(broker: KafkaPort, group: str, timeout: float = WAIT_SECONDS) -> int:
    """How far ``group``'s commits moved once it reads again, within ``timeout``."""
    start = await group_committed(broker, group)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        moved = await group_committed(broker, group) - start
        if moved > 0:
            return moved
    raise AssertionError(f"{group} did not commit again within {timeout}s")
