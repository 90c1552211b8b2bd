"""The group sampler's load on the brokers at 1,000 groups, and the bound that caps it.

On the local broker (tansu, or ``KCR_KAFKA_BOOTSTRAP``), ``KCR_BENCH_SAMPLER_GROUPS``
groups (default 1,000) commit on one topic. One background sample is taken with kcr's
port, its requests counted from librdkafka's statistics; the requests per minute follow
from the pause the sampler then keeps, with the default ``--sample-interval`` (15 s) and
``--sample-max-requests`` (3,000 a minute). Target: at most the setting.
"""

import asyncio
import os
import sys
import time
import uuid

from bench_lag import TIMEOUT, Tap
from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from kcr.embedded.tansu import bootstrap_servers
from kcr.kafka.connect import open_kafka
from kcr.kafka.settings import ClientSettings
from kcr.mcp.sampler import DEFAULT_MAX_REQUESTS_PER_MINUTE, GroupSampler

INTERVAL = 15.0
PARTITIONS = 4


def write(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def build(bootstrap: str, topic: str, groups: list[str]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
        future.result(TIMEOUT)
    offsets = [TopicPartition(topic, p, 0) for p in range(PARTITIONS)]
    futures = []
    for group in groups:
        request = ConsumerGroupTopicPartitions(group, offsets)
        futures += admin.alter_consumer_group_offsets([request]).values()
    for future in futures:
        future.result(TIMEOUT)


async def requests_per_sample(bootstrap: str) -> tuple[int, GroupSampler]:
    tap = Tap()
    kafka = open_kafka(
        bootstrap,
        settings=ClientSettings(request_timeout=TIMEOUT),
        extra_config=tap.config("sampler"),
    )
    sampler = GroupSampler(
        kafka, interval=INTERVAL, max_requests_per_minute=DEFAULT_MAX_REQUESTS_PER_MINUTE
    )
    try:
        await sampler.sample()  # connections and coordinators
        before = await _settled(tap, kafka)
        await sampler.sample()
        after = await _settled(tap, kafka)
    finally:
        await kafka.close()
    return after - before, sampler


async def _settled(tap: Tap, kafka: object) -> int:
    moment = tap.quiet()
    await asyncio.sleep(0.05)
    await kafka.cluster_overview()  # type: ignore[attr-defined]  # serves the statistics
    return tap.sent_before("sampler", moment)


def main() -> int:
    count = int(os.environ.get("KCR_BENCH_SAMPLER_GROUPS", "1000"))
    prefix = f"bench-sampler-{uuid.uuid4().hex[:8]}"
    with bootstrap_servers() as bootstrap:
        started = time.monotonic()
        build(bootstrap, f"{prefix}-t", [f"{prefix}-g{i:04d}" for i in range(count)])
        built = time.monotonic() - started
        sent, sampler = asyncio.run(requests_per_sample(bootstrap))
    groups = sampler.groups_sampled
    unbounded = sent * 60 / INTERVAL
    bounded = sent * 60 / sampler.pause()
    budget = sampler.max_requests_per_minute
    write(f"group sampler, {groups} groups on the broker (built in {built:.0f} s)")
    write(f"one sample: {sent} requests")
    write(f"every {INTERVAL:g} s unbounded: {unbounded:,.0f} requests a minute")
    write(
        f"with --sample-max-requests {budget:,.0f}: a sample every {sampler.pause():.1f} s, "
        f"{bounded:,.0f} requests a minute (target <= {budget:,.0f})"
    )
    met = bounded <= budget
    write("targets met" if met else "TARGETS MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
