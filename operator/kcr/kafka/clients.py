"""Real Kafka clients standing for a team's applications, for ``kcr lab``.

A producer at a steady rate, a consumer that works slowly, a consumer that keeps joining
and leaving its group, and one-shot produces that report how the broker answered. Each
runs in a thread of its own with librdkafka settings the caller gives (bootstrap and
security for the user it runs as), and stops when asked, within a bounded wait.
"""

import threading
import time
from collections.abc import Mapping
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
    workload = Workload(name)

    def run() -> None:
        producer = Producer(dict(settings) | {"linger.ms": 5})
        interval = 1.0 / per_second
        next_at = time.monotonic()
        while not workload._stop.is_set():
            try:
                producer.produce(
                    topic, f"record-{workload.count}".encode(), key=str(workload.count).encode()
                )
                workload.count += 1
            except (BufferError, KafkaException) as error:
                workload.errors.append(str(error))
            producer.poll(0)
            next_at += interval
            workload._stop.wait(max(0.0, next_at - time.monotonic()))
        producer.flush(5)

    return workload._start(run)


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
) -> int:
    """``count`` records spread over the first ``partitions`` partitions, stamped
    ``age_seconds`` in the past (retention judges a segment by its records' timestamps);
    returns how many the broker took."""
    delivered = 0

    def on_delivery(error: KafkaError | None, _message: object) -> None:
        nonlocal delivered
        if error is None:
            delivered += 1

    producer = Producer(dict(settings) | {"linger.ms": 20})
    stamp = int((time.time() - age_seconds) * 1000)
    for index in range(count):
        while True:
            try:
                producer.produce(
                    topic,
                    f"record-{index}".encode(),
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
