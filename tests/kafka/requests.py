"""Counting the requests the clients send: librdkafka's from its own statistics (per broker,
per API), kafka-python's from its connections' debug log."""

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from kcr.kafka import KafkaPort

STATISTICS_INTERVAL_MS = 50


class RequestCounter:
    """A ``stats_cb`` keeping every statistics event: cumulative counts, summed over brokers.

    ``all`` is every request sent (librdkafka's ``tx``); the per-API counts (``req``) leave
    some out (admin OffsetFetch requests are not counted there). Events carry librdkafka's
    monotonic clock (``ts``, microseconds), the same clock as ``time.monotonic``.
    """

    def __init__(self) -> None:
        self.events: list[tuple[float, Counter[str]]] = []

    def __call__(self, statistics: str) -> None:
        data = json.loads(statistics)
        totals: Counter[str] = Counter()
        for broker in data.get("brokers", {}).values():
            totals.update(broker.get("req", {}))
            totals["all"] += broker.get("tx", 0)
        self.events.append((data["ts"] / 1_000_000, totals))

    def client_config(self) -> dict[str, Any]:
        return {"statistics.interval.ms": STATISTICS_INTERVAL_MS, "stats_cb": self}

    async def settle(self, kafka: KafkaPort) -> Counter[str]:
        """The counts at a quiet moment: an event emitted after a pause, before any new call.

        Statistics are delivered when the client serves callbacks, which a port call does
        after its own requests; events emitted after ``quiet`` are ignored.
        """
        await asyncio.sleep(3 * STATISTICS_INTERVAL_MS / 1000)
        quiet = time.monotonic()
        await kafka.cluster_overview()
        before = [totals for stamp, totals in self.events if stamp <= quiet]
        if not before:
            raise AssertionError("no librdkafka statistics arrived; is stats_cb configured?")
        return Counter(before[-1])


class KafkaPythonRequests:
    """What kafka-python sent (by request class and version) and the group-level error codes
    OffsetFetch answered, read off its connections' debug log as each request leaves and
    each answer arrives."""

    LOGGER = "kafka.net.connection"

    def __init__(self) -> None:
        self.sent: Counter[tuple[str, int]] = Counter()
        self.group_errors: Counter[int] = Counter()

    def count(self, name: str, *, least_version: int = 0, most_version: int = 99) -> int:
        return sum(
            n
            for (api, version), n in self.sent.items()
            if api == name and least_version <= version <= most_version
        )

    def totals(self) -> Counter[str]:
        """Sent so far, by API name as librdkafka's statistics name them, and ``all``."""
        found: Counter[str] = Counter()
        for (api, _), n in self.sent.items():
            found[api.removesuffix("Request")] += n
            found["all"] += n
        return found

    @contextlib.contextmanager
    def counting(self) -> Iterator["KafkaPythonRequests"]:
        handler = _Tally(self)
        logger = logging.getLogger(self.LOGGER)
        saved = (logger.level, logger.propagate)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # answers print every row; nothing else should format them
        try:
            yield self
        finally:
            logger.removeHandler(handler)
            logger.setLevel(saved[0])
            logger.propagate = saved[1]


class _Tally(logging.Handler):
    def __init__(self, requests: KafkaPythonRequests) -> None:
        super().__init__(logging.DEBUG)
        self.requests = requests

    def emit(self, record: logging.LogRecord) -> None:
        message, args = record.msg, record.args
        if not isinstance(message, str) or not isinstance(args, tuple):
            return
        if message.endswith("Request %d: %s"):
            request = args[-1]
            self.requests.sent[(type(request).__name__, int(request.API_VERSION))] += 1
        elif message.endswith("Response %d (%s ms): %s"):
            response = args[-1]
            if type(response).__name__ == "OffsetFetchResponse":
                groups = getattr(response, "groups", None) or [response]
                for group in groups:
                    if getattr(group, "error_code", 0):
                        self.requests.group_errors[group.error_code] += 1
