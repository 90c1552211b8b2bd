"""The lag report's round trips grow with the number of groups, never with partitions."""

import pytest

from kcr import kinds
from kcr.kafka.connect import open_kafka
from kcr.kafka.fake import FakeKafka
from kcr.kinds.create_topic import CreateTopic

from .requests import KafkaPythonRequests, RequestCounter
from .traffic import BrokerTraffic

pytestmark = pytest.mark.asyncio


async def test_fake_report_reads_each_kind_of_data_once() -> None:
    fake = FakeKafka()
    for index in range(5):
        topic = f"topic-{index}"
        await kinds.apply(fake, CreateTopic(topic=topic, partitions=20, replication_factor=1))
        for group in range(6):
            fake.cluster.commit(f"group-{index}-{group}", {(topic, p): 0 for p in range(20)})
    fake.cluster.calls.clear()

    report = await fake.lag_report()

    assert report.partitions == 5 * 6 * 20
    assert dict(fake.cluster.calls) == {
        "list_groups": 1,
        "committed": 1,
        "describe_groups": 1,
        "log_offsets": 1,
    }


GROUPS = 4


@pytest.mark.kafka
@pytest.mark.slow
async def test_broker_round_trips_do_not_grow_with_partitions(
    kafka_bootstrap: str, unique: str
) -> None:
    """Several groups over a small and a twelve-times larger topic: the same requests."""
    counter = RequestCounter()
    kafka = open_kafka(kafka_bootstrap, extra_config=counter.client_config())
    traffic = BrokerTraffic(kafka_bootstrap)
    sizes = {"small": 2, "large": 24}
    groups = {label: [f"{unique}-{label}-{g}" for g in range(GROUPS)] for label in sizes}
    for label, partitions in sizes.items():
        topic = f"{unique}-{label}"
        await kinds.apply(
            kafka, CreateTopic(topic=topic, partitions=partitions, replication_factor=1)
        )
        for group in groups[label]:
            await traffic.commit(group, {(topic, p): 0 for p in range(partitions)})
    brokers = len((await kafka.cluster_overview()).brokers)

    sent = {}
    offset_reads = KafkaPythonRequests()  # committed offsets go through kafka-python
    try:
        with offset_reads.counting():
            for label, partitions in sizes.items():
                await kafka.lag_report(groups[label])  # coordinator lookups are cached after
                before = await counter.settle(kafka)
                before.update(offset_reads.totals())
                report = await kafka.lag_report(groups[label])
                after = await counter.settle(kafka)
                after.update(offset_reads.totals())
                assert report.partitions == GROUPS * partitions
                sent[label] = {
                    api: after[api] - before[api] for api in ("all", "ListOffsets", "OffsetFetch")
                }
    finally:
        await kafka.close()

    assert sent["small"] == sent["large"], sent
    assert sent["large"]["OffsetFetch"] == 1, "every group in one request (one coordinator)"
    assert 1 <= sent["large"]["ListOffsets"] <= 2 * brokers, "earliest and latest, per leader"
    assert sent["large"]["all"] <= 3 * GROUPS + 2 * brokers, "a few per group and per leader"
