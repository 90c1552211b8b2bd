"""Migration drain: an operator's intent, not an incident. Broker 2 is being decommissioned,
so every replica of a replication-factor-2 topic moves off it, onto the other two brokers.

The person asks for the drain by name (``draft_reassign_partitions`` with ``drain_broker``);
the topic is healthy before. What a reviewer and the broker must show: the change is a
ReassignPartitions, its review says how many bytes move and for how long at the throttle,
the operator holds the copy to a replication throttle while it runs and removes it after,
and broker 2 ends with no replica of the topic, every partition still with two replicas
and every record still there.
"""

import asyncio
import time

from kcr.kafka import TopicPartition
from kcr.kafka.clients import produce_burst
from kcr.lab.context import LabContext
from kcr.lab.scenario import HEALTHY, Expectation, ReadBack, Scenario, Ticket, register
from kcr.model import Risk

DRAINED = 2
PARTITIONS = 6
REPLICATION_FACTOR = 2
RECORDS = 6000
VALUE_BYTES = 1000
THROTTLE = 1 << 20
"""1 MiB/s per broker: the copy of a few MiB lasts seconds, long enough to be seen."""
POLL_SECONDS = 0.2
WATCH_SECONDS = 180.0


@register
class MigrationDrain(Scenario):
    name = "migration-drain"
    title = f"Migration: drain broker {DRAINED} of a replication-factor-2 topic"
    expectation = Expectation(
        cause=HEALTHY, proposal="ReassignPartitions", risk=Risk.MEDIUM, irreversible=False
    )

    async def build(self, lab: LabContext) -> Ticket:
        self.topic = await lab.create_topic(
            "payments", partitions=PARTITIONS, replication_factor=REPLICATION_FACTOR
        )
        took = await asyncio.to_thread(
            produce_burst,
            lab.kafka.admin_settings,
            self.topic,
            RECORDS,
            partitions=PARTITIONS,
            value_bytes=VALUE_BYTES,
        )
        self.request = ""
        self.throttle_seen = ""
        self.held = await self._held_on_drained(lab)
        self.records = await self._records(lab)
        lab.narrator.done(
            f"{took} records on {self.topic}; broker {DRAINED} holds {len(self.held)} of its "
            f"replicas, {sum(self.held.values())} bytes"
        )
        if not self.held:
            raise RuntimeError(f"broker {DRAINED} holds no replica of {self.topic}: no drill")
        return Ticket(
            text=f"drain broker {DRAINED}: it is being decommissioned; move the replicas of "
            f"{self.topic} off it",
            topic=self.topic,
            requested={
                "tool": "draft_reassign_partitions",
                "arguments": {
                    "drain_broker": DRAINED,
                    "topics": [self.topic],
                    "throttle_bytes_per_second": THROTTLE,
                },
            },
        )

    async def during_execution(self, lab: LabContext, request: str) -> None:
        """Watch the brokers while the operator runs it: the rates on the brokers and the
        replicas they hold back on the topic must be set while the copy runs."""
        from kcr.lab.runner import FINISHED, Requests  # noqa: PLC0415 (it imports scenarios)

        self.request = request
        requests = Requests(lab.stack)
        deadline = time.monotonic() + WATCH_SECONDS
        while time.monotonic() < deadline:
            throttles = await lab.admin.replication_throttles([self.topic])
            if throttles.throttled:
                rates = {b.broker: b.leader_rate for b in throttles.brokers if b.leader_rate}
                replicas = [t.follower_replicas for t in throttles.topics if t.follower_replicas]
                self.throttle_seen = f"rates {rates} B/s; follower replicas throttled {replicas}"
                if replicas:
                    break
            if (await requests.status(request)).phase in FINISHED:
                break
            await asyncio.sleep(POLL_SECONDS)
        if self.throttle_seen:
            lab.narrator.done(f"throttle set during the move: {self.throttle_seen}")

    async def read_back(self, lab: LabContext, drafted: bool) -> ReadBack:
        read_back = ReadBack()
        await self._estimate(lab, read_back)
        read_back.add(
            "throttle set during the move",
            bool(self.throttle_seen),
            self.throttle_seen or "never seen on the brokers while the change ran",
        )
        after = await lab.admin.replication_throttles([self.topic])
        read_back.add(
            "throttle removed after",
            not after.throttled,
            "no rate on any broker, no throttled replica on the topic"
            if not after.throttled
            else f"left: {after.brokers} {after.topics}",
        )
        (info,) = await lab.admin.describe_topics([self.topic])
        still = [f"{p.partition}:{p.replicas}" for p in info.partitions if DRAINED in p.replicas]
        factors = sorted({len(p.replicas) for p in info.partitions})
        read_back.add(
            f"broker {DRAINED} holds no replica",
            not still and factors == [REPLICATION_FACTOR],
            f"on broker {DRAINED}: {still or 'none'}; replication factors {factors}",
        )
        records = await self._records(lab)
        read_back.add(
            "every record still there",
            records == self.records,
            f"{sum(records.values())} records (before {sum(self.records.values())})",
        )
        return read_back

    async def _estimate(self, lab: LabContext, read_back: ReadBack) -> None:
        """The review's bytes estimate, against what the drained broker held."""
        from kcr.lab.runner import Requests  # noqa: PLC0415

        if not self.request:
            read_back.add("bytes estimate", False, "no request was run")
            return
        status = await Requests(lab.stack).status(self.request)
        moved = status.data_movement
        held = sum(self.held.values())
        present = moved is not None and bool(moved.bytes) and moved.seconds is not None
        read_back.add(
            "bytes estimate",
            present and moved is not None and (moved.bytes or 0) >= held // 2,
            f"{moved.describe() if moved else 'none'}; broker {DRAINED} held {held} bytes",
        )

    async def _held_on_drained(self, lab: LabContext) -> dict[int, int]:
        return {
            r.partition: r.size
            for r in await lab.admin.log_dir_sizes([self.topic])
            if r.broker == DRAINED and not r.future
        }

    async def _records(self, lab: LabContext) -> dict[int, int]:
        offsets = await lab.admin.log_offsets(
            [TopicPartition(topic=self.topic, partition=p) for p in range(PARTITIONS)]
        )
        return {o.partition: o.latest for o in offsets}
