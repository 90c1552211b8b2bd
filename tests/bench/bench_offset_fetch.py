"""Committed offsets of many groups on Apache Kafka: the floor kcr's lag report stands on.

KIP-709 (OffsetFetch v8+) lets one request carry many groups, and Apache Kafka 4.x
answers such requests. confluent-kafka 2.16 does not send them: its
``list_consumer_group_offsets`` takes exactly one group per call (it raises ``ValueError``
for more, checked below, so this bench notices when a release lifts that). Today's floor
is therefore one OffsetFetch per group, all in flight at once; this bench measures it on
one KRaft broker (``kcr.embedded.kraft``, SASL/PLAIN), next to kcr's committed-offset
read (``KafkaPort.committed_offsets``) and its whole lag report, side by side.

``KCR_BENCH_FETCH_GROUPS`` groups (default 200) commit on one topic of
``KCR_BENCH_FETCH_PARTITIONS`` partitions (default 100). Target: kcr's committed-offset
read sends the floor's requests (within 5%: coordinator lookups vary) and takes at most 2x
its time.
"""

import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench_lag import STATS_MS, Tap
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from kcr.embedded.kraft import running_cluster
from kcr.kafka.connect import open_kafka
from kcr.kafka.settings import ClientSettings

TIMEOUT = 60.0
REPEATS = 5
REQUEST_SLACK = 1.05  # coordinator lookups and metadata refreshes vary a little per run


def write(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def build(config: dict[str, Any], topic: str, groups: list[str], partitions: int) -> None:
    admin = AdminClient(config)
    for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        future.result(TIMEOUT)
    offsets = [TopicPartition(topic, p, 0) for p in range(partitions)]
    for group in groups:  # a member's commit, as the tests on Apache Kafka make them
        consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
        finally:
            consumer.close()


def batched_fetch_refused(admin: AdminClient, groups: list[str]) -> str | None:
    """The client's answer to one call for two groups: its refusal, or None if it sends it."""
    try:
        admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g) for g in groups[:2]])
    except ValueError as refusal:
        return str(refusal)
    return None


def floor(admin: AdminClient, groups: list[str]) -> int:
    pending = [
        admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g)])[g] for g in groups
    ]
    return sum(len(f.result(TIMEOUT).topic_partitions) for f in pending)


def elapsed_ms(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def measure(config: dict[str, Any], cluster: Any, groups: list[str], partitions: int) -> int:
    tap = Tap()
    admin = AdminClient({**config, **tap.config("floor")})
    refusal = batched_fetch_refused(admin, groups)
    kafka = open_kafka(
        cluster.spec(),
        cluster.credentials(),
        ClientSettings(request_timeout=TIMEOUT),
        extra_config=tap.config("kcr"),
    )
    loop = asyncio.new_event_loop()
    try:
        floor(admin, groups)  # connections and coordinators, for both
        loop.run_until_complete(kafka.committed_offsets(groups))
        contenders = {
            "floor": lambda: floor(admin, groups),
            "kcr": lambda: loop.run_until_complete(kafka.committed_offsets(groups)),
            "report": lambda: loop.run_until_complete(kafka.lag_report(groups)),
        }
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(REPEATS):  # alternated, so background load hits all alike
            for name, call in contenders.items():
                samples[name].append(elapsed_ms(call))
        sent = {}
        for name, call in (
            ("floor", lambda: floor(admin, groups)),
            ("kcr", lambda: loop.run_until_complete(kafka.committed_offsets(groups))),
        ):
            client = admin if name == "floor" else None
            before = _settled(tap, name, client, kafka, loop)
            call()
            sent[name] = _settled(tap, name, client, kafka, loop) - before
        rows = sum(len(g.offsets) for g in loop.run_until_complete(kafka.committed_offsets(groups)))
    finally:
        loop.run_until_complete(kafka.close())
        loop.close()
    f, k, r = (statistics.median(samples[n]) for n in ("floor", "kcr", "report"))
    write(
        f"Apache Kafka, 1 KRaft broker: {len(groups)} groups x {partitions} partitions "
        f"({rows} committed offsets)"
    )
    write(
        "batched OffsetFetch (KIP-709) through confluent-kafka: "
        + (f"refused by the client ({refusal})" if refusal else "accepted")
    )
    write(f"{'read':<34}{'time (median)':>15}{'requests':>10}")
    write(f"{'floor: one OffsetFetch per group':<34}{f:>12.1f} ms{sent['floor']:>10}")
    write(f"{'kcr committed_offsets':<34}{k:>12.1f} ms{sent['kcr']:>10}")
    write(f"{'kcr lag_report (whole)':<34}{r:>12.1f} ms{'':>10}")
    ratio = k / f
    write(f"kcr committed offsets vs floor: {ratio:.2f}x the time (target <= 2x)")
    met = ratio <= 2 and sent["kcr"] <= sent["floor"] * REQUEST_SLACK
    write("targets met" if met else "TARGETS MISSED")
    return 0 if met else 1


def _settled(
    tap: Tap, name: str, admin: AdminClient | None, kafka: Any, loop: asyncio.AbstractEventLoop
) -> int:
    """Requests sent so far, from a statistics event emitted after a quiet pause."""
    moment = tap.quiet()
    time.sleep(2 * STATS_MS / 1000)
    if admin is not None:
        admin.poll(0)
    else:
        loop.run_until_complete(kafka.cluster_overview())
    return tap.sent_before(name, moment)


def main() -> int:
    count = int(os.environ.get("KCR_BENCH_FETCH_GROUPS", "200"))
    partitions = int(os.environ.get("KCR_BENCH_FETCH_PARTITIONS", "100"))
    prefix = f"bench-fetch-{uuid.uuid4().hex[:8]}"
    groups = [f"{prefix}-g{index:04d}" for index in range(count)]
    with running_cluster(1) as cluster:
        config = cluster.client_config()
        build(config, f"{prefix}-t", groups, partitions)
        return measure(config, cluster, groups, partitions)


if __name__ == "__main__":
    sys.exit(main())
