"""Hot partition: skewed keys. One customer's key takes nine records in ten, and the default
partitioner sends every record of a key to the same partition, so one partition takes most
of the topic's bytes while its siblings idle.

The answer a Kafka SRE gives is not a Kafka change. Adding partitions does not split a key:
it still hashes to one partition (only, maybe, another one), while every other key moves
too and loses its per-key order during the change, which cannot be undone. The fix is the
producer's key or partitioner, which the owning team follows from the runbook section the
finding names. So the verdict expects the hot partition first, nothing drafted, a runbook,
and the topic left as it was; the person's request for more partitions is the ticket's
words, not a change kcr makes.
"""

import asyncio
import time

from kcr.kafka import TopicPartition
from kcr.kafka.clients import skewed_producer
from kcr.lab.context import LabContext
from kcr.lab.scenario import (
    NO_CHANGE,
    Check,
    Expectation,
    ReadBack,
    Scenario,
    Ticket,
    register,
)
from kcr.lab.verdict import FindingSeen

PARTITIONS = 3
HOT_KEY = "customer-42"
HOT_SHARE = 0.9
PER_SECOND = 300
VALUE_BYTES = 1024
HOT_BYTES = 2 << 20
"""Twice the size below which kcr calls no partition hot."""
GROW_SECONDS = 60.0


@register
class HotPartition(Scenario):
    name = "hot-partition"
    title = "Hot partition: one key takes most of a topic's bytes"
    expectation = Expectation(cause="HotPartition", proposal=NO_CHANGE)

    async def build(self, lab: LabContext) -> Ticket:
        self.topic = await lab.create_topic("orders", partitions=PARTITIONS)
        lab.run(
            skewed_producer(
                lab.kafka.admin_settings,
                self.topic,
                PER_SECOND,
                hot_key=HOT_KEY,
                hot_share=HOT_SHARE,
                value_bytes=VALUE_BYTES,
            )
        )
        self.hot, held = await self._grown(lab)
        lab.narrator.done(
            f"{HOT_SHARE:.0%} of {PER_SECOND} records/s keyed {HOT_KEY}: "
            f"{self.topic}/{self.hot} holds {held} bytes"
        )
        return Ticket(
            text=f"one partition of {self.topic} grows far faster than the others, and its "
            "broker's disk with it; the orders team asks for more partitions. What is wrong?",
            topic=self.topic,
        )

    async def _grown(self, lab: LabContext) -> tuple[int, int]:
        """The partition the hot key lands on, once it holds ``HOT_BYTES`` (bounded)."""
        deadline = time.monotonic() + GROW_SECONDS
        while True:
            sizes = await _largest(lab, self.topic)
            hot = max(sizes, key=lambda p: sizes[p]) if sizes else 0
            if sizes.get(hot, 0) >= HOT_BYTES:
                return hot, sizes[hot]
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.topic}/{hot} held {sizes} after {GROW_SECONDS:.0f}s")
            await asyncio.sleep(1.0)

    def diagnosis_checks(self, findings: list[FindingSeen]) -> list[Check]:
        subject = f"{self.topic}/{self.hot}"
        top = findings[0].summary if findings else ""
        return [
            Check(
                "diagnosis names the hot partition",
                subject in top,
                subject + (" named" if subject in top else f" not in {top[:200]!r}"),
            )
        ]

    async def read_back(self, lab: LabContext, drafted: bool) -> ReadBack:
        read_back = ReadBack()
        (info,) = await lab.admin.describe_topics([self.topic])
        count = len(info.partitions)
        read_back.add(
            "partitions unchanged", count == PARTITIONS, f"{self.topic}: {count} partitions"
        )
        offsets = await lab.admin.log_offsets(
            [TopicPartition(topic=self.topic, partition=p) for p in range(PARTITIONS)]
        )
        records = {o.partition: o.latest - o.earliest for o in offsets}
        share = records.get(self.hot, 0) / max(1, sum(records.values()))
        read_back.add(
            "the skew is on the broker",
            share >= HOT_SHARE - 0.05,
            f"{self.topic}/{self.hot} holds {share:.0%} of the records: {records}",
        )
        return read_back


async def _largest(lab: LabContext, topic: str) -> dict[int, int]:
    """Each partition's largest replica, in bytes, as DescribeLogDirs reports it."""
    found: dict[int, int] = {}
    for replica in await lab.admin.log_dir_sizes([topic]):
        found[replica.partition] = max(found.get(replica.partition, 0), replica.size)
    return found
