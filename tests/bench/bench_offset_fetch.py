"""Committed offsets of many groups on Apache Kafka: the floor kcr's lag report stands on.

kcr reads committed offsets through kafka-python (librdkafka 2.16 aborts the process when its
ListConsumerGroupOffsets is answered NOT_COORDINATOR, librdkafka #5040): one FindCoordinator
v4 for every group (KIP-699) and one OffsetFetch v8+ per coordinator carrying all of its
groups (KIP-709), asked stable. Side by side, on one KRaft broker (``kcr.embedded.kraft``,
SASL/PLAIN):

- floor: confluent-kafka's ``list_consumer_group_offsets``, one OffsetFetch per group (the
  client takes exactly one group per call: checked below, so this bench notices when a
  release lifts that), all in flight at once, no model building;
- kcr: ``KafkaPort.committed_offsets``, the batched read;
- kcr per group: the same read by a client told the broker is Kafka 2.7 (no KIP-709), as
  on an older cluster: one FindCoordinator and one OffsetFetch per group;
- kcr's whole lag report, for scale.

``KCR_BENCH_FETCH_GROUPS`` groups (default 200) commit on one topic of
``KCR_BENCH_FETCH_PARTITIONS`` partitions (default 100). Targets: kcr's read takes at most
2x the floor's time and sends one OffsetFetch per coordinator (one broker: one).
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
from tests.kafka.requests import KafkaPythonRequests

from kcr.embedded.kraft import running_cluster
from kcr.kafka.confluent.config import security_protocol
from kcr.kafka.connect import open_kafka
from kcr.kafka.kafkapython import KafkaPythonAdmin, admin_config
from kcr.kafka.settings import ClientSettings

TIMEOUT = 60.0
REPEATS = 5
UNBATCHED = (2, 7)  # OffsetFetch v7, FindCoordinator v3


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


def floor_requests(admin: AdminClient, tap: Tap, groups: list[str]) -> int:
    """Requests the floor sends for one read, from a statistics event after a quiet pause."""
    before = _settled(tap, admin)
    floor(admin, groups)
    return _settled(tap, admin) - before


def _settled(tap: Tap, admin: AdminClient) -> int:
    moment = tap.quiet()
    time.sleep(2 * STATS_MS / 1000)
    admin.poll(0)
    return tap.sent_before("floor", moment)


def measure(config: dict[str, Any], cluster: Any, groups: list[str], partitions: int) -> int:
    tap = Tap()
    admin = AdminClient({**config, **tap.config("floor")})
    refusal = batched_fetch_refused(admin, groups)
    settings = ClientSettings(request_timeout=TIMEOUT)
    kafka = open_kafka(cluster.spec(), cluster.credentials(), settings)
    spec, credentials = cluster.spec(), cluster.credentials()
    reader = admin_config(spec, credentials, settings, None, security_protocol(spec))
    per_group = KafkaPythonAdmin(reader | {"api_version": UNBATCHED}, settings)
    loop = asyncio.new_event_loop()
    try:
        contenders = {
            "floor": lambda: floor(admin, groups),
            "kcr": lambda: loop.run_until_complete(kafka.committed_offsets(groups)),
            "per group": lambda: loop.run_until_complete(per_group.committed(groups, None)),
            "report": lambda: loop.run_until_complete(kafka.lag_report(groups)),
        }
        for call in contenders.values():  # connections and coordinators, for each
            call()
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(REPEATS):  # alternated, so background load hits all alike
            for name, call in contenders.items():
                samples[name].append(elapsed_ms(call))
        sent = {"floor": floor_requests(admin, tap, groups)}
        for name in ("kcr", "per group"):
            counted = KafkaPythonRequests()
            with counted.counting():
                contenders[name]()
            sent[name] = sum(counted.sent.values())
            sent[f"{name} OffsetFetch"] = counted.count("OffsetFetchRequest")
        rows = sum(len(g.offsets) for g in loop.run_until_complete(kafka.committed_offsets(groups)))
    finally:
        loop.run_until_complete(kafka.close())
        loop.run_until_complete(per_group.close())
        loop.close()
    median = {name: statistics.median(times) for name, times in samples.items()}
    write(
        f"Apache Kafka, 1 KRaft broker: {len(groups)} groups x {partitions} partitions "
        f"({rows} committed offsets)"
    )
    write(
        "batched OffsetFetch (KIP-709) through confluent-kafka: "
        + (f"refused by the client ({refusal})" if refusal else "accepted")
    )
    write(f"{'read':<44}{'time (median)':>15}{'requests':>10}")
    lines = [
        ("floor: one OffsetFetch per group (librdkafka)", "floor"),
        ("kcr committed_offsets (batched, stable)", "kcr"),
        ("kcr, one OffsetFetch per group (no KIP-709)", "per group"),
    ]
    for label, name in lines:
        write(f"{label:<44}{median[name]:>12.1f} ms{sent[name]:>10}")
    write(f"{'kcr lag_report (whole)':<44}{median['report']:>12.1f} ms")
    ratio = median["kcr"] / median["floor"]
    write(f"kcr committed offsets vs floor: {ratio:.2f}x the time (target <= 2x)")
    write(
        f"batched vs one request per group: {median['kcr'] / median['per group']:.2f}x the "
        f"time, {sent['kcr OffsetFetch']} OffsetFetch against {sent['per group OffsetFetch']}"
    )
    met = ratio <= 2 and sent["kcr OffsetFetch"] == 1
    write("targets met" if met else "TARGETS MISSED")
    return 0 if met else 1


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
