"""Producers and a consumer for the embedded broker, each a child process known by its pid.

``tansu perf produce`` writes records of a fixed size to one partition at a bounded rate,
one record per batch (tansu moves its high watermark once per batch, so offsets stay
exact), like a producing service; ``kcr.kafka.reader`` reads and commits like a consuming one.
"""

import asyncio
import sys
from dataclasses import dataclass

from kcr.embedded.narration import Wait
from kcr.embedded.processes import Child, Children
from kcr.embedded.tansu import tansu_binary
from kcr.kafka import KafkaPort, TopicPartition

RECORD_BYTES = 200
RUN_FOR = "24h"
"""A producer's own end; the stack stops it by pid long before."""
FILL_RATE = 2000
PERF_RATE_FACTOR = 2
"""tansu 0.6's ``perf produce`` sends twice its ``--per-second`` (measured at 5 to 100/s)."""
POLL_SECONDS = 0.1
READER_METADATA_REFRESH_MS = 2000


@dataclass(frozen=True)
class Producer:
    topic: str
    partition: int
    per_second: int
    """Records a second that reach the broker."""

    def argv(self, bootstrap: str) -> list[str]:
        return [
            tansu_binary(),
            "perf",
            self.topic,
            f"--broker=tcp://{bootstrap}",
            "produce",
            f"--partition={self.partition}",
            "--batch-size=1",
            f"--record-size={RECORD_BYTES}",
            f"--per-second={max(1, round(self.per_second / PERF_RATE_FACTOR))}",
            f"--duration={RUN_FOR}",
        ]


def start_producer(children: Children, bootstrap: str, name: str, producer: Producer) -> Child:
    return children.launch(name, producer.argv(bootstrap), grace=2.0)


def start_reader(
    children: Children, bootstrap: str, name: str, group: str, subscription: str
) -> Child:
    """A consumer service (``kcr.kafka.reader``) that looks for new topics every 2 s, not
    every 5 min as librdkafka does by default, so the demo need not wait for it."""
    argv = [
        sys.executable,
        "-m",
        "kcr.kafka.reader",
        f"--bootstrap={bootstrap}",
        f"--group={group}",
        f"--subscribe={subscription}",
        f"--metadata-refresh-ms={READER_METADATA_REFRESH_MS}",
    ]
    return children.launch(name, argv, grace=5.0)


async def log_end(kafka: KafkaPort, topic: str, partition: int) -> int:
    (offsets,) = await kafka.log_offsets([TopicPartition(topic=topic, partition=partition)])
    return offsets.latest


async def fill_partition(
    kafka: KafkaPort,
    *,
    children: Children,
    bootstrap: str,
    topic: str,
    partition: int,
    records: int,
    wait: Wait,
) -> int:
    """Produce until the partition holds at least ``records``; returns its log end."""
    name = f"producer-{topic}-{partition}-burst"
    child = start_producer(children, bootstrap, name, Producer(topic, partition, FILL_RATE))
    try:
        while (end := await log_end(kafka, topic, partition)) < records:
            wait.show(f"{end:,} of {records:,} records", completed=end)
            if not child.running:
                raise child.exited()
            wait.check()
            await asyncio.sleep(POLL_SECONDS)
    finally:
        children.stop(child)
    return await log_end(kafka, topic, partition)
