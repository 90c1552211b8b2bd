"""Counting the requests librdkafka sends, from its own statistics (per broker, per API)."""

import asyncio
import json
import time
from collections import Counter
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
