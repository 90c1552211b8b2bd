"""A broker lost while kcr keeps reading: kcr's client re-dials it at the reconnect backoff.

With librdkafka's sparse connections every request that names the lost broker (a lag read
asking its partitions' leaders, while the controller has not yet moved them) dialled it
again at once, past the backoff: thousands of refused connects a second and a core spent on
them, in the MCP server's sampler and the operator alike, during the very incident kcr is
asked about. librdkafka's own statistics count the connects.
"""

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from kcr import kinds
from kcr.embedded.kraft import KraftCluster
from kcr.kafka import KafkaPortError
from kcr.kafka.connect import open_kafka
from kcr.kafka.service import KafkaService
from kcr.kafka.settings import ClientSettings
from kcr.kinds.create_topic import CreateTopic

from .traffic import BrokerTraffic

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]

LOST = 3
PARTITIONS = 6
OUTAGE_SECONDS = 12.0
READ_EVERY = 0.5
MOST_CONNECTS = 30
"""12 s at a backoff from 100 ms doubling to 2 s (jitter -25 %..+50 %) is about a dozen."""


@pytest_asyncio.fixture
async def statistics(apache_kafka_trio: KraftCluster) -> AsyncIterator[list[dict[str, Any]]]:
    """librdkafka's statistics reports, as they arrive; the lost broker is started after."""
    yield []
    await asyncio.to_thread(apache_kafka_trio.start_stopped)


def _connects(report: dict[str, Any], node: int) -> int:
    return sum(b["connects"] for b in report["brokers"].values() if b["nodeid"] == node)


async def test_a_lost_broker_is_redialled_at_the_backoff_not_in_a_loop(
    apache_kafka_trio: KraftCluster, statistics: list[dict[str, Any]], unique: str
) -> None:
    kafka: KafkaService = open_kafka(
        apache_kafka_trio.spec(),
        apache_kafka_trio.credentials(),
        ClientSettings(request_timeout=5),
        extra_config={
            "statistics.interval.ms": 500,
            "stats_cb": lambda text: statistics.append(json.loads(text)),
        },
    )
    try:
        topic, group = f"{unique}-t", f"{unique}-readers"
        await kinds.apply(
            kafka, CreateTopic(topic=topic, partitions=PARTITIONS, replication_factor=3)
        )
        config = apache_kafka_trio.client_config()
        traffic = BrokerTraffic(config.pop("bootstrap.servers"), config)
        await traffic.commit(group, {(topic, p): 1 for p in range(PARTITIONS)})
        assert (await kafka.lag_report([group], describe_groups=False)).group(group)

        apache_kafka_trio.stop_node(LOST)
        seen = len(statistics)
        started = time.monotonic()
        reads = 0
        while time.monotonic() - started < OUTAGE_SECONDS and reads < OUTAGE_SECONDS / READ_EVERY:
            reads += 1
            with contextlib.suppress(KafkaPortError):  # while its leaders are not yet moved
                await kafka.lag_report([group], describe_groups=False)
            await asyncio.sleep(READ_EVERY)
    finally:
        await kafka.close()

    during = statistics[seen:]
    assert len(during) >= 2, "librdkafka reported no statistics during the outage"
    dialled = _connects(during[-1], LOST) - _connects(during[0], LOST)
    assert 0 < dialled <= MOST_CONNECTS, f"{dialled} connects to broker {LOST} in {reads} reads"
