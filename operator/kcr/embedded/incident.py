"""The lag incident the demo starts from, made on the broker by real clients.

``shop.orders`` keeps only ten minutes of records. Its consumer group
``shop.fulfilment`` stopped consuming: a burst of orders piled up on one partition (a hot
partition) and producers keep writing, so the unread records are about as old as the
retention allows. The broker will delete them before anyone reads them. Meanwhile
``shop.invoicing`` reads every order topic (``^shop\\.orders.*``) and keeps up.
"""

from dataclasses import dataclass

from kcr import kinds
from kcr.embedded.narration import Narrator
from kcr.embedded.processes import Child, Children
from kcr.embedded.traffic import Producer, fill_partition, start_producer, start_reader
from kcr.kafka import KafkaPort, TopicPartition
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.model import (
    OffsetTarget,
    Ownership,
    PartitionOffset,
)

FILL_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Incident:
    topic: str = "shop.orders"
    partitions: int = 3
    group: str = "shop.fulfilment"
    retention_ms: int = 600_000
    compression: str = "lz4"
    burst: int = 5000
    """Records of the burst on ``hot_partition`` that the group never read."""
    hot_partition: int = 0
    steady_partition: int = 1
    steady_per_second: int = 6
    peak_partition: int = 2
    peak_per_second: int = 100
    """The evening peak the first story bakes through."""
    invoicing: str = "shop.invoicing"
    invoicing_subscription: str = r"^shop\.orders.*"
    """A pattern: a new topic whose name matches it joins the subscription."""
    dead_letter_topic: str = "shop.orders.dlq"

    @property
    def owner(self) -> Ownership:
        return Ownership(
            team="checkout",
            contact="#checkout-oncall",
            topic_prefixes=["shop."],
            group_prefixes=["shop."],
            runbooks=["https://runbooks.example.com/checkout/orders"],
        )

    def steady(self) -> Producer:
        return Producer(self.topic, self.steady_partition, self.steady_per_second)

    def peak(self) -> Producer:
        return Producer(self.topic, self.peak_partition, self.peak_per_second)


async def build_incident(
    incident: Incident,
    kafka: KafkaPort,
    children: Children,
    bootstrap: str,
    narrator: Narrator,
) -> Child:
    """Topic, the group's commits, the burst and the steady producer (returned, running)."""
    await kinds.apply(
        kafka,
        CreateTopic(
            topic=incident.topic,
            partitions=incident.partitions,
            replication_factor=1,
            configs={
                "retention.ms": str(incident.retention_ms),
                "compression.type": incident.compression,
            },
        ),
    )
    narrator.done(
        f"topic {incident.topic}: {incident.partitions} partitions, "
        f"retention.ms={incident.retention_ms} (10 minutes), "
        f"compression.type={incident.compression}"
    )
    await kinds.apply(
        kafka,
        ResetConsumerGroupOffsets(
            group=incident.group,
            topics=[incident.topic],
            to=OffsetTarget(
                offsets=[
                    PartitionOffset(topic=incident.topic, partition=p, offset=0)
                    for p in range(incident.partitions)
                ]
            ),
        ),
    )
    narrator.done(f"consumer group {incident.group} committed offset 0, then stopped consuming")
    label = f"a burst of orders on {incident.topic}/{incident.hot_partition}"
    with narrator.waiting(label, FILL_TIMEOUT_SECONDS, total=incident.burst) as wait:
        end = await fill_partition(
            kafka,
            children=children,
            bootstrap=bootstrap,
            topic=incident.topic,
            partition=incident.hot_partition,
            records=incident.burst,
            wait=wait,
        )
    narrator.done(f"{end:,} unread records on {incident.topic}/{incident.hot_partition}")
    producer = start_producer(children, bootstrap, "producer-checkout", incident.steady())
    narrator.done(
        f"checkout producer (pid {producer.pid}) writes {incident.steady_per_second} records/s "
        f"to {incident.topic}/{incident.steady_partition}"
    )
    await start_invoicing(incident, kafka, children, bootstrap, narrator)
    return producer


async def start_invoicing(
    incident: Incident, kafka: KafkaPort, children: Children, bootstrap: str, narrator: Narrator
) -> Child:
    """Invoicing has sent an invoice for every order so far: it starts at the log end."""
    ends = await kafka.log_offsets(
        [TopicPartition(topic=incident.topic, partition=p) for p in range(incident.partitions)]
    )
    await kinds.apply(
        kafka,
        ResetConsumerGroupOffsets(
            group=incident.invoicing,
            topics=[incident.topic],
            to=OffsetTarget(
                offsets=[
                    PartitionOffset(topic=o.topic, partition=o.partition, offset=o.latest)
                    for o in ends
                ]
            ),
        ),
    )
    reader = start_reader(
        children,
        bootstrap,
        "consumer-invoicing",
        incident.invoicing,
        incident.invoicing_subscription,
    )
    narrator.done(
        f"invoicing (pid {reader.pid}) reads {incident.invoicing_subscription} as group "
        f"{incident.invoicing} and keeps up; it never resets offsets by itself "
        "(auto.offset.reset=error: no invoice skipped, none sent twice)"
    )
    return reader
