"""Retention edge cases: lag beyond retention, a decrease that would delete unread data,
and a compacted topic, where retention.ms deletes nothing and is no risk to the lag."""

import asyncio

from kcr import kinds
from kcr.kafka.clients import produce_burst, steady_producer
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets as Reset
from kcr.lab.context import LabContext
from kcr.lab.scenario import NO_CHANGE, Expectation, ReadBack, Scenario, Ticket, register
from kcr.model import OffsetTarget, PartitionOffset, Risk

TEN_MINUTES_MS = 600_000
BURST = 5000
STEADY_PER_SECOND = 6
ONE_DAY_MS = 86_400_000


BACKLOG_AGE_SECONDS = BURST / STEADY_PER_SECOND
"""The burst stands for the backlog the steady producer would have left in this long."""


async def _backlog(
    lab: LabContext, topic: str, group: str, count: int, *, partitions: int, age: float
) -> int:
    """``count`` unread records, stamped ``age`` seconds old, then the group that stopped
    before them. In that order: kcr's sampler must first see the group with its backlog in
    place, as it would after the traffic the burst stands for, not see the burst arrive
    (a burst inside its samples is production, and the lag would look seconds old). A
    steady producer started first keeps the active segment young, so retention deletes
    nothing meanwhile."""
    took = await asyncio.to_thread(
        produce_burst,
        lab.kafka.admin_settings,
        topic,
        count,
        partitions=partitions,
        age_seconds=age,
    )
    await _stalled_group(lab, topic, group)
    return took


async def _stalled_group(lab: LabContext, topic: str, group: str) -> None:
    """The group committed offset 0 everywhere, then stopped: no member is left."""
    await kinds.apply(
        lab.admin,
        Reset(
            group=group,
            topics=[topic],
            to=OffsetTarget(
                offsets=[PartitionOffset(topic=topic, partition=p, offset=0) for p in range(3)]
            ),
        ),
    )


async def _retention(lab: LabContext, topic: str) -> str | None:
    (configs,) = await lab.admin.topic_configs([topic])
    entry = configs.configs.get("retention.ms")
    return entry.value if entry else None


@register
class LagBeyondRetention(Scenario):
    name = "lag-beyond-retention"
    title = "Retention: unread records older than retention will be deleted"
    expectation = Expectation(
        cause="LagBeyondRetention",
        proposal="AlterTopicConfig",
        risk=Risk.MEDIUM,
        irreversible=False,
    )
    settle_seconds = 5.0

    async def build(self, lab: LabContext) -> Ticket:
        topic = await lab.create_topic("orders", configs={"retention.ms": str(TEN_MINUTES_MS)})
        group = lab.group("fulfilment")
        lab.run(steady_producer(lab.kafka.admin_settings, topic, STEADY_PER_SECOND))
        took = await _backlog(lab, topic, group, BURST, partitions=1, age=BACKLOG_AGE_SECONDS)
        lab.narrator.done(
            f"{took} unread records, {BACKLOG_AGE_SECONDS / 60:.0f} min old, on {topic}/0; "
            f"{group} reads nothing"
        )
        self.topic = topic
        return Ticket(
            text=f"fulfilment is far behind on {topic}; will we lose orders?", topic=topic
        )

    async def read_back(self, lab: LabContext, drafted: bool) -> ReadBack:
        read_back = ReadBack()
        value = await _retention(lab, self.topic)
        read_back.add(
            "retention raised on the broker",
            value is not None and int(value) >= ONE_DAY_MS,
            f"retention.ms={value} (was {TEN_MINUTES_MS})",
        )
        return read_back


@register
class RetentionDecrease(Scenario):
    name = "retention-decrease"
    title = "Retention: a decrease that would delete unread data is flagged and refused"
    expectation = Expectation(
        cause="NoActiveConsumer",
        proposal="AlterTopicConfig",
        risk=Risk.HIGH,
        irreversible=True,
        approve=False,
    )
    settle_seconds = 3.0

    async def build(self, lab: LabContext) -> Ticket:
        topic = await lab.create_topic("audit", configs={"retention.ms": str(7 * ONE_DAY_MS)})
        group = lab.group("archiver")
        took = await _backlog(lab, topic, group, 2000, partitions=3, age=5 * 3600)
        lab.narrator.done(f"{took} unread records, 5 h old, on {topic}; {group} is stopped")
        self.topic = topic
        return Ticket(
            text=f"{topic} uses too much disk: set retention.ms to 2 hours",
            topic=topic,
            requested={
                "tool": "draft_alter_topic_config",
                "arguments": {"topics": [topic], "set": {"retention.ms": str(2 * 3_600_000)}},
            },
        )

    async def read_back(self, lab: LabContext, drafted: bool) -> ReadBack:
        read_back = ReadBack()
        value = await _retention(lab, self.topic)
        read_back.add(
            "retention unchanged on the broker",
            value == str(7 * ONE_DAY_MS),
            f"retention.ms={value}",
        )
        (offsets,) = await lab.admin.log_offsets([_partition(self.topic)])
        read_back.add(
            "unread records kept", offsets.earliest == 0, f"log start offset {offsets.earliest}"
        )
        return read_back


def _partition(topic: str):  # type: ignore[no-untyped-def]
    from kcr.kafka import TopicPartition  # noqa: PLC0415

    return TopicPartition(topic=topic, partition=0)


@register
class CompactedTopic(Scenario):
    name = "compacted-topic"
    title = "Retention: a compacted topic's lag is not at risk from retention.ms"
    expectation = Expectation(cause="NoActiveConsumer", proposal=NO_CHANGE)
    settle_seconds = 5.0

    async def build(self, lab: LabContext) -> Ticket:
        topic = await lab.create_topic(
            "customers",
            configs={"cleanup.policy": "compact", "retention.ms": str(TEN_MINUTES_MS)},
        )
        group = lab.group("crm-sync")
        # The backlog of lag-beyond-retention, by size, age and rate: at risk but compacted.
        lab.run(steady_producer(lab.kafka.admin_settings, topic, STEADY_PER_SECOND))
        await _backlog(lab, topic, group, BURST, partitions=3, age=BACKLOG_AGE_SECONDS)
        self.topic = topic
        return Ticket(text=f"crm-sync is behind on {topic}; will we lose records?", topic=topic)

    async def read_back(self, lab: LabContext, drafted: bool) -> ReadBack:
        read_back = ReadBack()
        value = await _retention(lab, self.topic)
        read_back.add("topic untouched", value == str(TEN_MINUTES_MS), f"retention.ms={value}")
        return read_back
