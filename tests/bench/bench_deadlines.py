"""Kafka call deadlines against a hung broker: one call, and several at once.

A broker that accepts connections and never answers is served on 127.0.0.1. One
``list_topics`` call runs out its deadline; then ``list_topics``, ``list_consumer_groups``
and ``lag_report`` run at once. Each deadline applies to its own call, so the three together
should take about as long as one: the target is a ratio of at most
``KCR_BENCH_DEADLINE_RATIO`` (default 1.5). The elapsed time of each is printed next to the
configured deadline, which is what the error tests leave out (a loaded machine stretches it).
"""

import asyncio
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kcr.kafka import KafkaTimeoutError
from kcr.kafka.connect import open_kafka
from kcr.kafka.settings import ClientSettings

SETTINGS = ClientSettings(request_timeout=2.0)
ACCEPT_SECONDS = 0.2


@contextmanager
def silent_broker() -> Iterator[int]:
    """Accepts connections and never answers; stopped and closed on exit."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(ACCEPT_SECONDS)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        server.close()


async def timed(port: int, together: bool) -> float:
    kafka = open_kafka(f"127.0.0.1:{port}", settings=SETTINGS)
    try:
        calls = [kafka.list_topics()]
        if together:
            calls += [kafka.list_consumer_groups(), kafka.lag_report()]
        started = time.monotonic()
        results = await asyncio.gather(*calls, return_exceptions=True)
        elapsed = time.monotonic() - started
    finally:
        await kafka.close()
    unexpected = [r for r in results if not isinstance(r, KafkaTimeoutError)]
    if unexpected:
        raise RuntimeError(f"expected timeouts from a hung broker, got {unexpected}")
    return elapsed


def main() -> int:
    target = float(os.environ.get("KCR_BENCH_DEADLINE_RATIO", "1.5"))
    with silent_broker() as port:
        one = asyncio.run(timed(port, together=False))
        three = asyncio.run(timed(port, together=True))
    ratio = three / one
    sys.stdout.write(
        f"hung broker, deadline {SETTINGS.deadline:.1f}s: one call gave up after {one:.2f}s, "
        f"three at once after {three:.2f}s (ratio {ratio:.2f}, target ≤ {target})\n"
    )
    return 0 if ratio <= target else 1
