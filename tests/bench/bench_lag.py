"""All-groups lag report: kcr next to a naive client and the protocol floor, in one run.

Default load: 20 topics x 100 partitions, 10 groups per topic (200 groups, 2,000
partitions, 20,000 group-partitions), on the local tansu broker or ``KCR_KAFKA_BOOTSTRAP``.
``KCR_BENCH_SHAPE=large`` is 50 topics x 400 partitions (500 groups, 20,000 partitions,
200,000 group-partitions). Override with ``KCR_BENCH_TOPICS``, ``KCR_BENCH_PARTITIONS``,
``KCR_BENCH_GROUPS_PER_TOPIC``, ``KCR_BENCH_REPEATS``; the naive client runs at the default
shape only, unless ``KCR_BENCH_NAIVE`` is 1 (or 0).

- naive: one ``committed()`` and one ``get_watermark_offsets()`` per partition, group after
  group (what several Kafka MCP servers do);
- floor: every group's OffsetFetch issued at once, then one ListOffsets for every
  partition, no model building;
- kcr: ``KafkaPort.lag_report()``: the same reads plus group states, log start offsets and
  the read model with hot partitions flagged;
- mcp: ``consumer_lag`` through a ``kcr mcp --transport stdio`` subprocess and the MCP SDK's
  client (which validates each result against the tool's output schema), every page of the
  all-groups report in pages of 200 groups; each page shows every group's total lag and
  its first 2,000 partition rows.
  Repeats start more than a second apart, so no repeat is served from the server's
  shared reads. A page's size and the client's schema check of it are printed beside,
  measured apart from the timed pass.

Requests are counted from librdkafka's statistics (``tx`` per client) in a separate pass,
so counting never slows the timed pass.
"""

import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bench_mcp import KCR, common_arguments
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec
from jsonschema.validators import validator_for
from mcp import Client, StdioServerParameters
from referencing import Registry
from tests.kafka.requests import KafkaPythonRequests

from kcr.embedded.tansu import bootstrap_servers
from kcr.kafka.connect import open_kafka
from kcr.kafka.settings import ClientSettings
from kcr.mcp.paging import MAX_LIMIT

log = logging.getLogger("bench.lag")
TIMEOUT = 60.0
BUILD_TIMEOUT = 900.0
STATS_MS = 10
SHARED_READ_AGE = 1.0
SHAPES = {"default": (20, 100, 10), "large": (50, 400, 10)}
NAIVE_BY_SHAPE = {"default": True, "large": False}  # minutes per run at the large shape


def _setting(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Load:
    topics: int
    partitions: int
    groups_per_topic: int

    @property
    def groups(self) -> int:
        return self.topics * self.groups_per_topic

    @property
    def group_partitions(self) -> int:
        return self.groups * self.partitions


def write(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# --- the load --------------------------------------------------------------------------------


HOT_RECORDS = 150


def records(partition: int) -> int:
    return HOT_RECORDS if partition == 0 else 1 + partition % 5


def build(bootstrap: str, prefix: str, load: Load) -> dict[str, int]:
    """Topics, records and committed offsets; returns each group's expected total lag.

    Partitions hold 1 to 5 records, except partition 0 of every topic, which holds
    ``HOT_RECORDS``: every group has exactly one hot partition.
    """
    admin = AdminClient({"bootstrap.servers": bootstrap})
    names = [f"{prefix}-t{t:02d}" for t in range(load.topics)]
    created = admin.create_topics(
        [NewTopic(n, num_partitions=load.partitions, replication_factor=1) for n in names],
        operation_timeout=TIMEOUT,
    )
    for future in created.values():
        future.result(TIMEOUT)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 1})
    for name in names:
        for partition in range(load.partitions):
            for _ in range(records(partition)):
                producer.produce(name, b"x", partition=partition)
            producer.poll(0)
    deadline = time.monotonic() + BUILD_TIMEOUT  # one record per batch: slow at 20,000
    while producer.flush(TIMEOUT / 10) and time.monotonic() < deadline:
        log.info("records still in flight: %d", len(producer))
    if len(producer):
        raise RuntimeError("records were not delivered")
    expected = {}
    futures = []
    for t, name in enumerate(names):
        for g in range(load.groups_per_topic):
            group = f"{prefix}-g{t:02d}-{g}"
            offsets = [
                TopicPartition(name, p, (p + g) % records(p)) for p in range(load.partitions)
            ]
            expected[group] = sum(records(p) - o.offset for p, o in enumerate(offsets))
            request = ConsumerGroupTopicPartitions(group, offsets)
            futures += admin.alter_consumer_group_offsets([request]).values()
    for future in futures:
        future.result(TIMEOUT)
    return expected


def cleanup(bootstrap: str, prefix: str, load: Load) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    names = [f"{prefix}-t{t:02d}" for t in range(load.topics)]
    for future in admin.delete_topics(names, operation_timeout=TIMEOUT).values():
        future.result(TIMEOUT)


# --- request counting ----------------------------------------------------------------------


@dataclass
class Tap:
    """librdkafka statistics of every client: requests sent (``tx``), by monotonic time."""

    events: dict[str, list[tuple[float, int]]] = field(default_factory=dict)

    def config(self, client: str) -> dict[str, Any]:
        def record(raw: str) -> None:
            data = json.loads(raw)
            sent = sum(b.get("tx", 0) for b in data.get("brokers", {}).values())
            self.events.setdefault(client, []).append((data["ts"] / 1_000_000, sent))

        return {"statistics.interval.ms": STATS_MS, "stats_cb": record}

    def sent_before(self, client: str, moment: float) -> int:
        return max((n for stamp, n in self.events.get(client, []) if stamp <= moment), default=0)

    @staticmethod
    def quiet() -> float:
        time.sleep(3 * STATS_MS / 1000)
        return time.monotonic()


def _no_tap(_: str) -> dict[str, Any]:
    return {}


# --- the three implementations ---------------------------------------------------------------


def floor_report(admin: AdminClient, prefix: str) -> dict[tuple[str, str, int], int]:
    listed = admin.list_consumer_groups(request_timeout=TIMEOUT).result(TIMEOUT)
    groups = [g.group_id for g in listed.valid if g.group_id.startswith(prefix)]
    pending = [
        admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(g)], request_timeout=TIMEOUT
        )[g]
        for g in groups
    ]
    committed = [f.result(TIMEOUT) for f in pending]
    partitions = {(tp.topic, tp.partition) for c in committed for tp in c.topic_partitions}
    latest = admin.list_offsets(
        {TopicPartition(t, p): OffsetSpec.latest() for t, p in partitions},
        request_timeout=TIMEOUT,
    )
    ends = {(tp.topic, tp.partition): f.result(TIMEOUT).offset for tp, f in latest.items()}
    return {
        (c.group_id, tp.topic, tp.partition): ends[(tp.topic, tp.partition)] - tp.offset
        for c in committed
        for tp in c.topic_partitions
    }


def naive_report(
    bootstrap: str, prefix: str, tap_config: Callable[[str], dict[str, Any]], tap: Tap | None
) -> tuple[dict[str, int], int]:
    admin = AdminClient({"bootstrap.servers": bootstrap, **tap_config("naive-admin")})
    listed = admin.list_consumer_groups(request_timeout=TIMEOUT).result(TIMEOUT)
    groups = sorted(g.group_id for g in listed.valid if g.group_id.startswith(prefix))
    totals = {}
    sent = 0
    for group in groups:
        request = ConsumerGroupTopicPartitions(group)
        found = admin.list_consumer_group_offsets([request])[group].result(TIMEOUT)
        name = f"naive-{group}"
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, **tap_config(name)})
        lag = 0
        for tp in found.topic_partitions:
            wanted = TopicPartition(tp.topic, tp.partition)
            (committed,) = consumer.committed([wanted], timeout=TIMEOUT)
            _, high = consumer.get_watermark_offsets(wanted, timeout=TIMEOUT)
            lag += high - committed.offset
        totals[group] = lag
        if tap is not None:
            moment = tap.quiet()
            consumer.poll(0)
            sent += tap.sent_before(name, moment)
        consumer.close()
    if tap is not None:
        moment = tap.quiet()
        admin.poll(0)
        sent += tap.sent_before("naive-admin", moment)
    return totals, sent


# --- measuring ---------------------------------------------------------------------------


def timed(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    durations = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations), result


def count_requests(bootstrap: str, prefix: str, naive: bool) -> dict[str, int]:
    tap = Tap()
    counts = {}
    admin = AdminClient({"bootstrap.servers": bootstrap, **tap.config("floor")})
    floor_report(admin, prefix)
    moment = tap.quiet()
    admin.poll(0)
    counts["floor"] = tap.sent_before("floor", moment)

    async def kcr_pass() -> int:
        """librdkafka's requests and kafka-python's (committed offsets), together."""
        kafka = open_kafka(
            bootstrap,
            settings=ClientSettings(request_timeout=TIMEOUT),
            extra_config=tap.config("kcr"),
        )
        offset_reads = KafkaPythonRequests()
        with offset_reads.counting():
            await kafka.lag_report()
        moment = tap.quiet()
        await kafka.cluster_overview()  # serves the statistics callback
        await kafka.close()
        return tap.sent_before("kcr", moment) + sum(offset_reads.sent.values())

    counts["kcr"] = asyncio.run(kcr_pass())
    if naive:
        _, counts["naive"] = naive_report(bootstrap, prefix, tap.config, tap)
    return counts


@contextlib.asynccontextmanager
async def mcp_stdio(bootstrap: str, workdir: Path) -> Any:
    params = StdioServerParameters(
        command=KCR,
        args=[*common_arguments(bootstrap, workdir / "audit.jsonl"), "--transport=stdio"],
        env={"KUBECONFIG": str(workdir / "none")},
    )
    async with Client(params) as client:
        yield client


async def mcp_report(
    client: Client, limit: int, most_pages: int, pages: list[dict[str, Any]] | None = None
) -> dict[str, int]:
    """Every page of the all-groups report; each group's total lag (each page kept in
    ``pages`` when given)."""
    totals: dict[str, int] = {}
    cursor = None
    for _ in range(most_pages):
        arguments: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            arguments["cursor"] = cursor
        result = await client.call_tool("consumer_lag", arguments)
        if result.is_error:
            raise RuntimeError(f"consumer_lag failed: {result.content[0].text}")
        page = result.structured_content or {}
        if pages is not None:
            pages.append(page)
        for group in page["groups"]:
            totals[group["group"]] = group["totalLag"]
        cursor = page["nextCursor"]
        if cursor is None:
            return totals
    raise RuntimeError(f"the report did not end within {most_pages} pages")


@dataclass
class Timings:
    floor: float
    kcr: float
    mcp: float
    floor_rows: dict[tuple[str, str, int], int]
    report: Any
    mcp_totals: dict[str, int]
    output_schema: dict[str, Any]
    pages: list[dict[str, Any]]


async def contenders(bootstrap: str, prefix: str, load: Load, repeats: int) -> Timings:
    """Floor, kcr's port and the MCP path, alternated; the medians and the last answers."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    kafka = open_kafka(bootstrap, settings=ClientSettings(request_timeout=TIMEOUT))
    limit = MAX_LIMIT
    most_pages = load.groups // limit + 2
    floor_times, kcr_times, mcp_times = [], [], []
    with TemporaryDirectory(prefix="kcr-bench-lag-") as tmp:
        async with mcp_stdio(bootstrap, Path(tmp)) as client:
            # connections and coordinator lookups, for every contender
            await asyncio.to_thread(floor_report, admin, prefix)
            await kafka.lag_report()
            pages: list[dict[str, Any]] = []
            await mcp_report(client, limit, most_pages, pages)
            listed = await client.list_tools()
            last_mcp = time.monotonic()
            for _ in range(repeats):  # alternated, so background load hits all alike
                started = time.perf_counter()
                floor_rows = await asyncio.to_thread(floor_report, admin, prefix)
                floor_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                report = await kafka.lag_report()
                kcr_times.append(time.perf_counter() - started)
                await asyncio.sleep(max(0.0, last_mcp + SHARED_READ_AGE + 0.1 - time.monotonic()))
                last_mcp = time.monotonic()
                started = time.perf_counter()
                mcp_totals = await mcp_report(client, limit, most_pages)
                mcp_times.append(time.perf_counter() - started)
    await kafka.close()
    return Timings(
        floor=statistics.median(floor_times),
        kcr=statistics.median(kcr_times),
        mcp=statistics.median(mcp_times),
        floor_rows=floor_rows,
        report=report,
        mcp_totals=mcp_totals,
        output_schema=next(t.output_schema or {} for t in listed.tools if t.name == "consumer_lag"),
        pages=pages,
    )


def schema_check(schema: dict[str, Any], pages: list[dict[str, Any]]) -> float:
    """What the SDK client spends checking one page against the output schema (median)."""
    validator = validator_for(schema)(schema, registry=Registry())
    times = []
    for page in pages:
        started = time.perf_counter()
        errors = list(validator.iter_errors(page))
        times.append(time.perf_counter() - started)
        if errors:
            raise RuntimeError(f"a page does not match the output schema: {errors[0].message}")
    return statistics.median(times)


def measure(
    bootstrap: str, prefix: str, load: Load, repeats: int, expected: dict[str, int], naive: bool
) -> int:
    timings = asyncio.run(contenders(bootstrap, prefix, load, repeats))
    floor_time, kcr_time, mcp_time = timings.floor, timings.kcr, timings.mcp
    report, floor_rows = timings.report, timings.floor_rows
    limit = MAX_LIMIT

    naive_time, naive_totals = (
        timed(lambda: naive_report(bootstrap, prefix, _no_tap, None)[0], 1)
        if naive
        else (None, expected)
    )

    kcr_totals = {g.group: g.total_lag for g in report.groups if g.group.startswith(prefix)}
    mcp_totals = {g: lag for g, lag in timings.mcp_totals.items() if g.startswith(prefix)}
    floor_totals: dict[str, int] = {}
    for (group, _, _), lag in floor_rows.items():
        floor_totals[group] = floor_totals.get(group, 0) + lag
    hot = [h for h in report.hot_partitions if h.group.startswith(prefix)]
    agree = kcr_totals == floor_totals == naive_totals == mcp_totals == expected
    agree = agree and sorted((h.group, h.partition) for h in hot) == [
        (g, 0) for g in sorted(expected)
    ]

    counts = count_requests(bootstrap, prefix, naive)
    write(
        f"load: {load.topics} topics x {load.partitions} partitions, {load.groups} groups "
        f"({load.groups_per_topic} per topic), {load.group_partitions} group-partitions"
    )
    write(f"{'implementation':<16}{'time (median)':>16}{'requests':>12}")
    rows = [("floor", floor_time, counts["floor"]), ("kcr", kcr_time, counts["kcr"])]
    if naive_time is not None:
        rows.insert(0, ("naive", naive_time, counts["naive"]))
    for name, seconds, sent in rows:
        write(f"{name:<16}{seconds * 1000:>13.1f} ms{sent:>12}")
    pages = -(-load.groups // limit)
    write(f"{'mcp (stdio)':<16}{mcp_time * 1000:>13.1f} ms   {pages} pages of {limit} groups")
    sizes = [len(json.dumps(p, separators=(",", ":"))) for p in timings.pages]
    checked = schema_check(timings.output_schema, timings.pages)
    write(
        f"  a page: {max(p['partitions'] for p in timings.pages)} partition rows, "
        f"{statistics.median(sizes) / 1024:.0f} KiB structured; the client's schema check "
        f"{checked * 1000:.1f} ms of it (measured apart)"
    )
    overhead = kcr_time / floor_time
    mcp_overhead = mcp_time / floor_time
    fast_enough = True
    if naive_time is not None:
        speedup = naive_time / kcr_time
        fast_enough = speedup >= 20
        write(f"kcr vs naive: {speedup:.1f}x faster (target >= 20x)")
    write(f"kcr vs floor: {overhead:.2f}x the floor's time (target <= 2x)")
    write(f"mcp vs floor: {mcp_overhead:.2f}x the floor's time, every page (target <= 2x)")
    write(
        f"kcr report: {report.partitions} partition rows, {len(hot)} hot partitions flagged; "
        f"lag numbers and hot partitions {'agree' if agree else 'DISAGREE'} with the load"
    )
    met = fast_enough and overhead <= 2 and mcp_overhead <= 2 and agree
    write("targets met" if met else "TARGETS MISSED")
    return 0 if met else 1


def main() -> int:
    shape = os.environ.get("KCR_BENCH_SHAPE", "default")
    topics, partitions, groups_per_topic = SHAPES[shape]
    naive = os.environ.get("KCR_BENCH_NAIVE", "1" if NAIVE_BY_SHAPE[shape] else "0") == "1"
    load = Load(
        topics=_setting("KCR_BENCH_TOPICS", topics),
        partitions=_setting("KCR_BENCH_PARTITIONS", partitions),
        groups_per_topic=_setting("KCR_BENCH_GROUPS_PER_TOPIC", groups_per_topic),
    )
    repeats = _setting("KCR_BENCH_REPEATS", 5)
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    with bootstrap_servers() as bootstrap:
        started = time.monotonic()
        expected = build(bootstrap, prefix, load)
        log.info("load built in %.1fs", time.monotonic() - started)
        try:
            return measure(bootstrap, prefix, load, repeats, expected, naive)
        finally:
            cleanup(bootstrap, prefix, load)


if __name__ == "__main__":
    sys.exit(main())
