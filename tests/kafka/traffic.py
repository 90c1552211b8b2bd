"""Producing, committing and joining groups on the fake or on the broker, for contract tests.

On the broker this goes through confluent-kafka's own producer and consumer, not through
kcr, so the port is checked against what independent clients did.
"""

import asyncio
import contextlib
import time
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

    async def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None: ...

    def member(self, group: str, topics: list[str]) -> contextlib.AbstractAsyncContextManager[str]:
        """A consumer that has joined ``group``; yields its client id."""
        ...


class FakeTraffic:
    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster

    async def produce(
        self, topic: str, partition: int, count: int = 1, *, timestamp_ms: int | None = None
    ) -> None:
        self.cluster.produce(topic, partition, count, timestamp_ms=timestamp_ms)

    async def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        self.cluster.commit(group, offsets)

    @contextlib.asynccontextmanager
    async def member(self, group: str, topics: list[str]) -> AsyncIterator[str]:
        client_id = f"{group}-member"
        assigned = [
            TopicPartition(topic=t, partition=p)
            for t in topics
            for p in range(len(self.cluster.topics[t].partitions))
        ]
        self.cluster.join(group, f"{client_id}-1", client_id=client_id, assignments=assigned)
        try:
            yield client_id
        finally:
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

    def _join(self, group: str, topics: list[str], client_id: str) -> Consumer:
        consumer = Consumer(
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
        consumer.subscribe(topics)
        deadline = time.monotonic() + JOIN_TIMEOUT
        while not consumer.assignment():
            if time.monotonic() > deadline:
                consumer.close()
                raise TimeoutError(f"consumer did not join group {group} in {JOIN_TIMEOUT}s")
            consumer.poll(0.2)
        return consumer

    @contextlib.asynccontextmanager
    async def member(self, group: str, topics: list[str]) -> AsyncIterator[str]:
        client_id = f"{group}-member"
        consumer = await asyncio.to_thread(self._join, group, topics, client_id)
        try:
            yield client_id
        finally:
            await asyncio.to_thread(consumer.close)
