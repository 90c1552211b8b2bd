"""Consumer group samples over time: the memory behind ``recent_rebalances`` and trends.

Kafka only tells the present: a group's state, members and committed offsets now. The
sampler reads them every interval and keeps a bounded history per group, so the server
can say how often a group rebalanced and whether its lag grows or its offsets are stuck.
A rebalance is recorded when the generation moves, the member set changes, or the group
is caught preparing or completing a rebalance.
"""

import asyncio
import hashlib
import logging
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from pydantic import Field

from kcr.kafka import GroupDescription, KafkaPort, KafkaPortError, LagReport
from kcr.model import GroupState
from kcr.model.base import KubeModel

HISTORY_PER_GROUP = 240
EVENTS_PER_GROUP = 200
MAX_GROUPS = 5000
DEFAULT_MAX_REQUESTS_PER_MINUTE = 3000.0
# Per group, librdkafka's admin client finds the coordinator, then fetches the committed
# offsets, and again to describe it (measured by make bench: about four requests a group).
# Besides, a sample lists the groups and reads the earliest and latest offsets per leader.
REQUESTS_PER_GROUP = 4
REQUESTS_PER_SAMPLE_BESIDES_GROUPS = 4
REBALANCING = (GroupState.PREPARING_REBALANCE, GroupState.COMPLETING_REBALANCE)

log = logging.getLogger(__name__)


class GroupSample(KubeModel):
    at: datetime
    state: GroupState
    members: int
    member_digest: str = Field(description="Digest of the member ids, to see membership change")
    generation: int | None = None
    total_lag: int = 0
    committed_total: int = Field(default=0, description="Sum of committed offsets")
    log_end_total: int = Field(default=0, description="Sum of log end offsets of those partitions")


class RebalanceEvent(KubeModel):
    group: str
    at: datetime
    previous_at: datetime
    from_state: GroupState
    to_state: GroupState
    from_generation: int | None = None
    to_generation: int | None = None
    members_before: int
    members_after: int
    reasons: list[str]


def sample_of(
    at: datetime, description: GroupDescription | None, lag: LagReport | None, group: str
) -> GroupSample:
    ids = sorted(m.member_id for m in description.members) if description else []
    row = lag.group(group) if lag else None
    partitions = [p for t in (row.topics if row else []) for p in t.partitions]
    return GroupSample(
        at=at,
        state=description.state if description else GroupState.UNKNOWN,
        members=len(ids),
        member_digest=hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16],
        generation=description.generation if description else None,
        total_lag=row.total_lag if row else 0,
        committed_total=sum(p.committed or 0 for p in partitions if (p.committed or 0) >= 0),
        log_end_total=sum(p.log_end for p in partitions),
    )


def rebalance_between(group: str, before: GroupSample, after: GroupSample) -> RebalanceEvent | None:
    reasons = []
    if (
        before.generation is not None
        and after.generation is not None
        and after.generation != before.generation
    ):
        reasons.append(f"generation {before.generation} → {after.generation}")
    if after.member_digest != before.member_digest and (before.members or after.members):
        reasons.append(f"members {before.members} → {after.members}")
    if after.state in REBALANCING and after.state != before.state:
        reasons.append(f"state {after.state}")
    if not reasons:
        return None
    return RebalanceEvent(
        group=group,
        at=after.at,
        previous_at=before.at,
        from_state=before.state,
        to_state=after.state,
        from_generation=before.generation,
        to_generation=after.generation,
        members_before=before.members,
        members_after=after.members,
        reasons=reasons,
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def pause_after(groups: int, interval: float, max_requests_per_minute: float) -> float:
    """Seconds until the next sample: the interval, stretched so that sampling ``groups``
    sends at most ``max_requests_per_minute`` to the brokers (four requests per group, and
    a few per broker besides, counted here as for one broker)."""
    requests = groups * REQUESTS_PER_GROUP + REQUESTS_PER_SAMPLE_BESIDES_GROUPS
    return max(interval, requests * 60.0 / max_requests_per_minute)


class GroupSampler:
    def __init__(
        self,
        kafka: KafkaPort,
        *,
        interval: float = 15.0,
        max_requests_per_minute: float = DEFAULT_MAX_REQUESTS_PER_MINUTE,
        history: int = HISTORY_PER_GROUP,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._kafka = kafka
        self.interval = interval
        self.max_requests_per_minute = max_requests_per_minute
        self.groups_sampled = 0
        self._history = history
        self._clock = clock
        self._samples: dict[str, deque[GroupSample]] = {}
        self._events: dict[str, deque[RebalanceEvent]] = {}

    def record(self, group: str, sample: GroupSample) -> RebalanceEvent | None:
        if group not in self._samples and len(self._samples) >= MAX_GROUPS:
            return None
        samples = self._samples.setdefault(group, deque(maxlen=self._history))
        event = rebalance_between(group, samples[-1], sample) if samples else None
        samples.append(sample)
        if event is not None:
            self._events.setdefault(group, deque(maxlen=EVENTS_PER_GROUP)).append(event)
        return event

    async def sample(self, groups: list[str] | None = None) -> dict[str, GroupSample]:
        """One read of the groups (every group when None): describe and lag, concurrently.
        Returns the samples taken, by group, for other replicas to record too."""
        names = groups
        if names is None:
            names = [g.group for g in await self._kafka.list_consumer_groups()]
            self.groups_sampled = len(names)
        if not names:
            return {}
        described, lag = await asyncio.gather(
            self._kafka.describe_consumer_groups(names),
            self._kafka.lag_report(names, describe_groups=False),
        )
        by_group = {d.group: d for d in described}
        now = self._clock()
        taken: dict[str, GroupSample] = {}
        for name in names:
            found = by_group.get(name)
            if found is not None and not found.exists:
                continue
            taken[name] = sample_of(now, found, lag, name)
            self.record(name, taken[name])
        return taken

    def ingest(self, samples: Mapping[str, GroupSample]) -> int:
        """Records a round another replica sampled; returns how many samples were new.

        A group's sample no newer than the one it holds is skipped, so a round read twice,
        or read after this replica sampled the group itself, leaves the history in order.
        """
        recorded = 0
        for group, sample in samples.items():
            held = self._samples.get(group)
            if held and held[-1].at >= sample.at:
                continue
            self.record(group, sample)
            recorded += 1
        self.groups_sampled = len(samples)
        return recorded

    def pause(self) -> float:
        """Seconds between background samples, for the groups the last one found."""
        return pause_after(self.groups_sampled, self.interval, self.max_requests_per_minute)

    async def run(self) -> None:
        """Sample every interval (longer for many groups: see :func:`pause_after`) until
        cancelled; a failed read is logged and retried.

        Anything else that goes wrong is logged with its traceback and sampling goes on:
        this task shares the server's lifespan, and an escaping error would end the server.
        """
        while True:
            try:
                await self.sample()
            except KafkaPortError as error:
                log.warning("consumer group sample failed", extra={"error": str(error)})
            except Exception:
                log.exception("consumer group sample failed unexpectedly; sampling goes on")
            await asyncio.sleep(self.pause())

    def samples(self, group: str, since: datetime | None = None) -> list[GroupSample]:
        found = list(self._samples.get(group, ()))
        return [s for s in found if since is None or s.at >= since]

    def rebalances(self, group: str, since: datetime | None = None) -> list[RebalanceEvent]:
        found = list(self._events.get(group, ()))
        return [e for e in found if since is None or e.at >= since]

    def window(self, minutes: int) -> datetime:
        return self._clock() - timedelta(minutes=minutes)
