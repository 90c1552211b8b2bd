"""Real Kafka clients standing for a team's applications, for ``kcr lab``.

A producer at a steady rate (or with one key taking most records, or watching the broker
throttle it), a consumer that works slowly, a consumer that keeps joining and leaving its
group, and one-shot produces that report how the broker answered. Each runs in a thread of
its own with librdkafka settings the caller gives (bootstrap and security for the user it
runs as), and stops when asked, within a bounded wait.
"""

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient

STOP_SECONDS = 15.0
POLL_SECONDS = 0.1
Settings = Mapping[str, str | int]


@dataclass
class Workload:
    """A client loop in a thread; ``count`` is what it did (records sent or processed)."""

    name: str
    count: int = 0
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_SECONDS)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self, target: object) -> "Workload":
        self._thread = threading.Thread(target=target, name=self.name, daemon=True)  # type: ignore[arg-type]
        self._thread.start()
        return self


def produce_once(settings: Settings, topic: str, value: bytes = b"probe") -> str | None:
    """One record, delivered or refused: None when the broker took it, else its error name
    (``TOPIC_AUTHORIZATION_FAILED`` when the authorizer refuses)."""
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(error)

    producer = Producer(dict(settings) | {"linger.ms": 0, "message.timeout.ms": 8000})
    try:
        producer.produce(topic, value, on_delivery=delivered)
    except KafkaException as error:
        return str(error.args[0].name())
    left = producer.flush(12)
    if failures:
        return str(failures[0].name())
    return "NOT_DELIVERED" if left else None


def steady_producer(
    settings: Settings, topic: str, per_second: float, *, name: str = "producer"
) -> Workload:
    """Records at ``per_second`` (keys spread over partitions) until stopped."""
    return _paced(settings, topic, per_second, lambda n: str(n).encode(), b"", name=name)


def skewed_producer(
    settings: Settings,
    topic: str,
    per_second: float,
    *,
    hot_key: str,
    hot_share: float,
    value_bytes: int,
    name: str = "producer",
) -> Workload:
    """Records at ``per_second``, ``hot_share`` of them with ``hot_key`` (the default
    partitioner sends them all to one partition), the rest with keys of their own."""
    every = max(1, round(1 / (1 - hot_share))) if hot_share < 1 else 0

    def key(count: int) -> bytes:
        return (f"key-{count}" if every and count % every == 0 else hot_key).encode()

    return _paced(settings, topic, per_second, key, b"x" * value_bytes, name=name)


def _paced(
    settings: Settings,
    topic: str,
    per_second: float,
    key: Callable[[int], bytes],
    padding: bytes,
    *,
    name: str,
) -> Workload:
    workload = Workload(name)

    def run() -> None:
        producer = Producer(dict(settings) | {"linger.ms": 5})
        interval = 1.0 / per_second
        next_at = time.monotonic()
        while not workload._stop.is_set():
            try:
                producer.produce(
                    topic, f"record-{workload.count}".encode() + padding, key=key(workload.count)
                )
                workload.count += 1
            except (BufferError, KafkaException) as error:
                workload.errors.append(str(error))
            producer.poll(0)
            next_at += interval
            workload._stop.wait(max(0.0, next_at - time.monotonic()))
        producer.flush(5)

    return workload._start(run)


@dataclass
class MeteredWorkload(Workload):
    """A producer that keeps what librdkafka's statistics said of the broker's throttle."""

    throttle: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=600))
    """(monotonic seconds, the largest throttle time any broker set in that interval, ms)."""

    def throttled_since(self, since: float) -> float | None:
        """The largest throttle reported after ``since``; None before any report."""
        seen = [ms for at, ms in list(self.throttle) if at >= since]
        return max(seen) if seen else None


def throttled_producer(
    settings: Settings,
    topic: str,
    per_second: float,
    *,
    value_bytes: int,
    client_id: str,
    partitions: int,
    queued: int = 64,
    name: str = "producer",
) -> MeteredWorkload:
    """Records of ``value_bytes`` at ``per_second`` as ``client_id``, the client a quota
    names, in turn to each of ``partitions`` (a quota holds per broker: each leader sees
    its share). At most ``queued`` wait to be sent: a throttled application falls behind
    rather than buffer without end, so once let faster it catches up in seconds.
    librdkafka's statistics (each second) say how long the brokers throttled it."""
    workload = MeteredWorkload(name)

    def on_stats(document: str) -> None:
        brokers = json.loads(document).get("brokers", {}).values()
        worst = max((float(b.get("throttle", {}).get("max", 0)) for b in brokers), default=0.0)
        workload.throttle.append((time.monotonic(), worst))

    def run() -> None:
        producer = Producer(
            dict(settings)
            | {
                "client.id": client_id,
                "linger.ms": 100,
                "queue.buffering.max.messages": queued,
                "statistics.interval.ms": 1000,
                "stats_cb": on_stats,
            }
        )
        value = b"x" * value_bytes
        interval = 1.0 / per_second
        next_at = time.monotonic()
        while not workload._stop.is_set():
            try:
                producer.produce(topic, value, partition=workload.count % partitions)
                workload.count += 1
            except BufferError:
                next_at = time.monotonic()  # the queue is full: this record's turn is lost
            except KafkaException as error:
                workload.errors.append(str(error))
            producer.poll(0)
            next_at += interval
            workload._stop.wait(max(0.0, next_at - time.monotonic()))
        producer.flush(5)

    workload._start(run)
    return workload


def slow_consumer(
    settings: Settings, group: str, topic: str, per_second: float, *, name: str = "consumer"
) -> Workload:
    """A member of ``group`` that processes ``per_second`` records and commits each: present,
    consuming, and slower than its producers."""
    workload = Workload(name)

    def run() -> None:
        consumer = Consumer(
            dict(settings)
            | {
                "group.id": group,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": True,
                "auto.commit.interval.ms": 500,
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 500,
            }
        )
        consumer.subscribe([topic])
        try:
            while not workload._stop.is_set():
                message = consumer.poll(POLL_SECONDS)
                if message is None or message.error() is not None:
                    continue
                workload.count += 1
                workload._stop.wait(1.0 / per_second)
        finally:
            consumer.close()

    return workload._start(run)


def flapping_consumer(
    settings: Settings, group: str, topic: str, stay_seconds: float, *, name: str = "flapper"
) -> Workload:
    """A member that joins ``group``, stays ``stay_seconds`` and leaves, over and over: each
    join and each leave rebalances the group, as a crash-looping pod does."""
    workload = Workload(name)

    def run() -> None:
        while not workload._stop.is_set():
            consumer = Consumer(
                dict(settings)
                | {
                    "group.id": group,
                    "auto.offset.reset": "earliest",
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 500,
                }
            )
            consumer.subscribe([topic])
            until = time.monotonic() + stay_seconds
            while time.monotonic() < until and not workload._stop.is_set():
                message = consumer.poll(POLL_SECONDS)
                if message is not None and message.error() is None:
                    workload.count += 1
            consumer.close()
            workload._stop.wait(stay_seconds / 2)

    return workload._start(run)


def delete_groups(settings: Settings, groups: list[str], timeout: float = 15.0) -> list[str]:
    """Delete consumer groups (the lab's own, afterwards); returns those that could not be."""
    if not groups:
        return []
    admin = AdminClient(dict(settings))
    failed = []
    for group, future in admin.delete_consumer_groups(groups, request_timeout=timeout).items():
        try:
            future.result(timeout)
        except KafkaException as error:
            if error.args[0].code() != KafkaError.GROUP_ID_NOT_FOUND:
                failed.append(f"{group}: {error.args[0].str()}")
    return failed


def produce_burst(
    settings: Settings,
    topic: str,
    count: int,
    *,
    partitions: int = 1,
    age_seconds: float = 0.0,
    value_bytes: int = 0,
) -> int:
    """``count`` records spread over the first ``partitions`` partitions, stamped
    ``age_seconds`` in the past (retention judges a segment by its records' timestamps),
    padded by ``value_bytes``; returns how many the broker took."""
    delivered = 0

    def on_delivery(error: KafkaError | None, _message: object) -> None:
        nonlocal delivered
        if error is None:
            delivered += 1

    producer = Producer(dict(settings) | {"linger.ms": 20})
    stamp = int((time.time() - age_seconds) * 1000)
    padding = b"x" * value_bytes
    for index in range(count):
        while True:
            try:
                producer.produce(
                    topic,
                    f"record-{index}".encode() + padding,
                    key=f"key-{index % 50}".encode(),
                    partition=index % partitions,
                    timestamp=stamp,
                    on_delivery=on_delivery,
                )
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush(30)
    return delivered
