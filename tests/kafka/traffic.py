"""Producing, committing and joining groups on the fake or on the broker, for contract tests.

On the broker this goes through confluent-kafka's own producer and consumer, not through
kcr, so the port is checked against what independent clients did.
"""

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Protocol

from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as ConfluentPartition

from kcr.kafka.fake import FakeCluster
from kcr.kafka.readmodel import TopicPartition

JOIN_TIMEOUT = 30.0


class Traffic(Protocol):
    async def produce(
        self, topic: str, partition: int, count: int = 1, *, timestamp_ms: int | None = None
    ) -> None: ...

    async def fill(self, topic: str, partition: int, records: int) -> None:
        """``records`` of a kilobyte each, batched: data a replica move has to copy."""
        ...

    async def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None: ...

    def member(self, group: str, topics: list[str]) -> contextlib.AbstractAsyncContextManager[str]:
        """A consumer that has joined ``group``; yields its client id."""
        ...

    def members(
        self, group: str, topics: list[str], count: int
    ) -> contextlib.AbstractAsyncContextManager[list[str]]:
        """``count`` consumers in ``group``, each with partitions assigned; yields client ids."""
        ...


class FakeTraffic:
    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster

    async def produce(
        self, topic: str, partition: int, count: int = 1, *, timestamp_ms: int | None = None
    ) -> None:
        self.cluster.produce(topic, partition, count, timestamp_ms=timestamp_ms)

    async def fill(self, topic: str, partition: int, records: int) -> None:
        self.cluster.produce(topic, partition, records)

    async def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        self.cluster.commit(group, offsets)

    @contextlib.asynccontextmanager
    async def member(self, group: str, topics: list[str]) -> AsyncIterator[str]:
        async with self.members(group, topics, 1) as (client_id,):
            yield client_id

    @contextlib.asynccontextmanager
    async def members(self, group: str, topics: list[str], count: int) -> AsyncIterator[list[str]]:
        """Assigned as Kafka's default range assignor does: members in order of member id,
        each topic's partitions split in consecutive runs, the first runs one longer."""
        client_ids = [f"{group}-member-{index}" for index in range(count)]
        assigned: list[list[TopicPartition]] = [[] for _ in client_ids]
        for topic in topics:
            total = len(self.cluster.topics[topic].partitions)
            start = 0
            for index in range(count):
                size = total // count + (1 if index < total % count else 0)
                assigned[index] += [
                    TopicPartition(topic=topic, partition=p) for p in range(start, start + size)
                ]
                start += size
        for client_id, partitions in zip(client_ids, assigned, strict=True):
            self.cluster.join(group, f"{client_id}-1", client_id=client_id, assignments=partitions)
        try:
            yield client_ids
        finally:
            for client_id in client_ids:
                self.cluster.leave(group, f"{client_id}-1")


class BrokerTraffic:
    """One record per batch (``batch.num.messages=1``): tansu advances its high watermark
    once per batch, so exact offsets need one record in each."""

    def __init__(self, bootstrap: str, security: dict[str, str] | None = None) -> None:
        """``security`` adds a client's SASL settings (Apache Kafka runs with SASL/PLAIN)."""
        self.bootstrap = bootstrap
        self.security = security or {}

    def _config(self, **settings: object) -> dict[str, object]:
        return {"bootstrap.servers": self.bootstrap, **self.security, **settings}

    def _produce(self, topic: str, partition: int, count: int, timestamp_ms: int | None) -> None:
        producer = Producer(self._config(**{"linger.ms": 0, "batch.num.messages": 1}))
        for index in range(count):
            producer.produce(
                topic, f"record-{index}".encode(), partition=partition, timestamp=timestamp_ms or 0
            )
            producer.flush(10)
        left = producer.flush(10)
        if left:
            raise RuntimeError(f"{left} records to {topic}/{partition} were not delivered")

    async def produce(
        self, topic: str, partition: int, count: int = 1, *, timestamp_ms: int | None = None
    ) -> None:
        await asyncio.to_thread(self._produce, topic, partition, count, timestamp_ms)

    def _fill(self, topic: str, partition: int, records: int) -> None:
        producer = Producer(self._config(**{"linger.ms": 20, "acks": "all"}))
        for _ in range(records):
            producer.produce(topic, b"x" * 1024, partition=partition)
            producer.poll(0)
        left = producer.flush(60)
        if left:
            raise RuntimeError(f"{left} records to {topic}/{partition} were not delivered")

    async def fill(self, topic: str, partition: int, records: int) -> None:
        await asyncio.to_thread(self._fill, topic, partition, records)

    def _commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        consumer = Consumer(self._config(**{"group.id": group}))
        try:
            consumer.commit(
                offsets=[ConfluentPartition(t, p, o) for (t, p), o in offsets.items()],
                asynchronous=False,
            )
        finally:
            consumer.close()

    async def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        await asyncio.to_thread(self._commit, group, offsets)

    def _consumer(self, group: str, client_id: str) -> Consumer:
        return Consumer(
            self._config(
                **{
                    "group.id": group,
                    "client.id": client_id,
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 500,
                    "enable.auto.commit": False,
                    "auto.offset.reset": "earliest",
                }
            )
        )

    @contextlib.asynccontextmanager
    async def member(self, group: str, topics: list[str]) -> AsyncIterator[str]:
        async with self.members(group, topics, 1) as (client_id,):
            yield client_id

    @contextlib.asynccontextmanager
    async def members(self, group: str, topics: list[str], count: int) -> AsyncIterator[list[str]]:
        """Each consumer polls in its own thread, so every rebalance completes."""
        client_ids = [f"{group}-member-{index}" for index in range(count)]
        running = [
            PollingConsumer(self._consumer(group, client_id), topics) for client_id in client_ids
        ]
        try:
            for consumer in running:
                await asyncio.to_thread(consumer.wait_assigned, JOIN_TIMEOUT, group)
            yield client_ids
        finally:
            for consumer in running:
                await asyncio.to_thread(consumer.stop)


class PollingConsumer:
    """A subscribed consumer polled by a thread of its own until stopped, then closed (it
    leaves its group at once)."""

    def __init__(self, consumer: Consumer, topics: list[str]) -> None:
        self._consumer = consumer
        self._assigned = threading.Event()
        self._stopping = threading.Event()
        consumer.subscribe(topics)
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stopping.is_set():
            self._consumer.poll(0.1)
            if self._consumer.assignment():
                self._assigned.set()

    def wait_assigned(self, timeout: float, group: str) -> None:
        if not self._assigned.wait(timeout):
            raise TimeoutError(f"consumer did not join group {group} in {timeout}s")

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()
        self._consumer.close()
