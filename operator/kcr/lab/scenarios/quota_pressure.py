"""Quota pressure: a producer held back by its client quota.

The ingest service's client id has a ``producer_byte_rate`` of 16 KiB/s, which Kafka holds
per broker, and sends about 64 records of 1,000 bytes a second over three partitions led by
three brokers, some 24 KB/s to each with the batches' overhead: the brokers throttle it, its
send queue stays full and it falls behind. The throttle time reaches kcr through the
brokers' quota sensors (the JMX exporter, scraped by Prometheus); the finding names the
client, the quota that holds it, and proposes doubling that quota on the client's own entity,
which the traffic then fits under. After approval the producer's own statistics
(librdkafka's, not kcr's) and the brokers' sensors read back no throttle, and the broker the
raised quota.

It runs first: kcr compares the brokers' request latencies (p99) with each other, and on
brokers no other scenario has loaded yet this evenly spread producer is the one thing wrong.
"""

import asyncio
import time
from collections.abc import Callable

import httpx

from kcr import kinds
from kcr.kafka import QuotaEntityType
from kcr.kafka.clients import MeteredWorkload, throttled_producer
from kcr.kafka.quota_model import ClientQuotaFilter
from kcr.kinds.alter_client_quotas import AlterClientQuotas
from kcr.kinds.client_quota_entity import ClientQuotaEntity
from kcr.lab.context import LabContext
from kcr.lab.scenario import Expectation, Need, ReadBack, Scenario, Ticket, register
from kcr.mcp.broker_metrics import client_of
from kcr.model import Risk

KEY = "producer_byte_rate"
QUOTA = 16 * 1024
PARTITIONS = 3
PER_SECOND = 64
VALUE_BYTES = 1000
THROTTLED_WITHIN_SECONDS = 60.0
CALM_SECONDS = 5.0
"""The span without any throttle in the producer's statistics that counts as none."""
CALM_WITHIN_SECONDS = 60.0
SENSOR = "kafka_server_quota_throttle_time"


@register
class QuotaPressure(Scenario):
    name = "quota-pressure"
    title = "Quota pressure: a producer throttled by its client quota"
    expectation = Expectation(
        cause="QuotaPressure", proposal="AlterClientQuotas", risk=Risk.LOW, irreversible=False
    )
    needs = frozenset({Need.BROKER_METRICS})
    order = 10
    settle_seconds = 4.0
    """Prometheus scrapes every second; the throttle must be in its samples."""

    async def build(self, lab: LabContext) -> Ticket:
        self.topic = await lab.create_topic("events", partitions=PARTITIONS)
        self.client_id = lab.name("ingest")
        self.entity = {QuotaEntityType.CLIENT_ID: self.client_id}
        await kinds.apply(lab.admin, _quota(self.client_id, QUOTA))
        started = time.monotonic()
        self.producer: MeteredWorkload = throttled_producer(
            lab.kafka.admin_settings,
            self.topic,
            PER_SECOND,
            value_bytes=VALUE_BYTES,
            client_id=self.client_id,
            partitions=PARTITIONS,
        )
        lab.run(self.producer)
        await _until(
            lambda: (self.producer.throttled_since(started) or 0.0) > 0,
            THROTTLED_WITHIN_SECONDS,
        )
        self.before = self.producer.throttled_since(started) or 0.0
        lab.narrator.done(
            f"{self.client_id} sends {PER_SECOND * VALUE_BYTES // 1000} KB/s over "
            f"{PARTITIONS} brokers against {KEY}={QUOTA} on each: the brokers throttle it up "
            f"to {self.before:.0f} ms"
        )
        return Ticket(
            text=f"the ingest service cannot keep up writing to {self.topic}: its producer "
            f"({self.client_id}) keeps a full send queue and falls behind. What holds it back?",
            topic=self.topic,
        )

    async def read_back(self, lab: LabContext, drafted: bool) -> ReadBack:
        read_back = ReadBack()
        read_back.add("throttled before", self.before > 0, f"up to {self.before:.0f} ms")
        (found,) = await lab.admin.describe_client_quotas(ClientQuotaFilter.exactly(self.entity))
        raised = found.values.get(KEY, 0.0)
        read_back.add(
            "quota raised on the broker", raised > QUOTA, f"{KEY}={raised:.0f} (was {QUOTA})"
        )
        calm = await _until(self._calm, CALM_WITHIN_SECONDS)
        recent = [ms for at, ms in self.producer.throttle if at >= time.monotonic() - 15]
        read_back.add(
            "the producer is no longer throttled",
            calm,
            f"no throttle for {CALM_SECONDS:.0f}s in its librdkafka statistics"
            if calm
            else f"still throttled (ms, each second): {recent}",
        )
        sensors = await self._sensors_quiet(lab)
        read_back.add(
            "the brokers no longer throttle it",
            not any(ms > 0 for ms in sensors.values()),
            f"{SENSOR} by broker: {sensors or 'no samples'}",
        )
        return read_back

    def _calm(self) -> bool:
        """Every statistics report of the last seconds says no broker throttled it."""
        since = time.monotonic() - CALM_SECONDS
        reports = [ms for at, ms in self.producer.throttle if at >= since]
        return len(reports) >= CALM_SECONDS - 1 and not any(reports)

    async def _sensors_quiet(self, lab: LabContext) -> dict[str, float]:
        """The client's throttle time per broker, as Prometheus scraped it last, once no
        broker throttles it (Kafka's sensor keeps a throttle for up to a minute), or as it
        is when ``CALM_WITHIN_SECONDS`` have passed."""
        assert lab.kafka.prometheus_url is not None
        sensors: dict[str, float] = {}
        deadline = time.monotonic() + CALM_WITHIN_SECONDS
        async with httpx.AsyncClient(base_url=lab.kafka.prometheus_url, timeout=5) as http:
            while time.monotonic() < deadline:
                response = await http.get("/api/v1/query", params={"query": SENSOR})
                response.raise_for_status()
                sensors = {
                    item["metric"].get("broker", "?"): float(item["value"][1])
                    for item in response.json()["data"]["result"]
                    if client_of(item["metric"])[1] == self.client_id
                }
                if not any(ms > 0 for ms in sensors.values()):
                    break
                await asyncio.sleep(1.0)
        return sensors

    async def cleanup(self, lab: LabContext) -> None:
        """The quota removed, the producer stopped, and its throttle gone from the brokers'
        sensors: a later scenario's diagnosis must not see this one's client."""
        client_id = getattr(self, "client_id", None)
        if client_id is None:
            return
        await kinds.apply(lab.admin, _quota(client_id, None))
        await asyncio.to_thread(self.producer.stop)
        await self._sensors_quiet(lab)


def _quota(client_id: str, value: float | None) -> AlterClientQuotas:
    return AlterClientQuotas(entities=[ClientQuotaEntity(client_id=client_id, quotas={KEY: value})])


async def _until(done: Callable[[], bool], timeout: float) -> bool:
    """Whether ``done()`` came to hold within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    return done()
