"""The MCP server's load on the brokers, as Prometheus sees it: requests sent, in total.

Coalesced reads and paged snapshots exist to keep this number small when many assistants
ask at once; counting it is how an operator (and the benchmark) checks they do. The count
comes from librdkafka's own statistics (``tx`` per broker, cumulative), every
``STATISTICS_INTERVAL_MS``, so it trails the truth by at most that long; the requests kcr
sends through kafka-python (committed offsets, coordinators, log dirs, quotas) are counted
as they leave.
"""

import json
from typing import Any

from prometheus_client import CollectorRegistry, Counter

STATISTICS_INTERVAL_MS = 1000


class KafkaRequestMeter:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "kcr_mcp_kafka_requests",
            "Requests the MCP server's Kafka client sent to the brokers",
            registry=registry,
        )
        self._seen = 0

    def client_config(self) -> dict[str, Any]:
        """librdkafka settings that feed the counter."""
        return {"statistics.interval.ms": STATISTICS_INTERVAL_MS, "stats_cb": self._observe}

    def count(self, sent: int) -> None:
        """Requests sent by a client without statistics of its own (kafka-python)."""
        self.requests.inc(sent)

    def _observe(self, statistics: str) -> None:
        data = json.loads(statistics)
        sent = sum(b.get("tx", 0) for b in data.get("brokers", {}).values())
        if sent > self._seen:
            self.requests.inc(sent - self._seen)
            self._seen = sent
