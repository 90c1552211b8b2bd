"""A consumer process standing for a service that reads a topic (``kcr demo`` runs one).

It reads and commits as a service does, and stops at the first error a strict service
stops at: with ``auto.offset.reset=error`` (an invoice is never skipped nor sent twice) a
partition without a committed offset is an error, not a place to start. Like a container
that Kubernetes restarts, it starts again a second later. It lives in :mod:`kcr.kafka`
because only this package imports the Kafka client; ``kcr.embedded`` starts it by pid.
"""

import argparse
import logging
import signal
import sys
import threading
import time
from types import FrameType

from confluent_kafka import Consumer, KafkaException

log = logging.getLogger("kcr.reader")

RESTART_SECONDS = 1.0
MAX_RESTARTS = 10_000
MAX_RUN_SECONDS = 24 * 3600.0
POLL_SECONDS = 0.2


def read_once(config: dict[str, object], subscription: list[str], stop: threading.Event) -> None:
    """Read until ``stop`` or the first error, which is raised; commits every second."""
    consumer = Consumer(config)
    try:
        consumer.subscribe(subscription)
        while not stop.is_set():
            message = consumer.poll(POLL_SECONDS)
            if message is not None and message.error() is not None:
                raise KafkaException(message.error())
    finally:
        consumer.close()


def run(config: dict[str, object], subscription: list[str], stop: threading.Event) -> int:
    """Read, and after an error start again, as often and as long as the bounds allow."""
    deadline = time.monotonic() + MAX_RUN_SECONDS
    for restart in range(MAX_RESTARTS):
        if stop.is_set() or time.monotonic() > deadline:
            return 0
        try:
            read_once(config, subscription, stop)
        except KafkaException as error:
            log.error("stopped by %s; starting again (restart %d)", error.args[0], restart + 1)
            stop.wait(RESTART_SECONDS)
    return 1


def consumer_config(bootstrap: str, group: str, metadata_refresh_ms: int) -> dict[str, object]:
    return {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "client.id": f"{group}-reader",
        "auto.offset.reset": "error",
        "enable.auto.commit": True,
        "auto.commit.interval.ms": 1000,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
        "topic.metadata.refresh.interval.ms": metadata_refresh_ms,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kcr.kafka.reader", description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument(
        "--subscribe", action="append", required=True, help="a topic, or ^regex for a pattern"
    )
    parser.add_argument(
        "--metadata-refresh-ms",
        type=int,
        default=300_000,
        help="how soon a new topic joins a pattern subscription (librdkafka's default: 5 min)",
    )
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()

    def stopping(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    config = consumer_config(arguments.bootstrap, arguments.group, arguments.metadata_refresh_ms)
    return run(config, arguments.subscribe, stop)


if __name__ == "__main__":
    sys.exit(main())
