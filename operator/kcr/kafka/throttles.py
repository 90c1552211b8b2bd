"""Replication throttles for a replica move, as Kafka's reassign tool sets and clears them.

Two halves: each broker's rates (``leader.`` and ``follower.replication.throttled.rate``,
dynamic per-broker configs), and each topic's list of the replicas they apply to
(``leader.`` and ``follower.replication.throttled.replicas``). Both are compared first and
only what differs is sent; a write waits until its read shows it.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime

from kcr.kafka.backend import Backend
from kcr.kafka.errors import InvalidRequestError
from kcr.kafka.moves import described
from kcr.kafka.readmodel import ConfigEntry, TopicConfigs, TopicInfo
from kcr.kafka.replica_model import (
    FOLLOWER_THROTTLE_RATE,
    FOLLOWER_THROTTLED_REPLICAS,
    LEADER_THROTTLE_RATE,
    LEADER_THROTTLED_REPLICAS,
    BrokerThrottle,
    ReplicationThrottles,
    TopicThrottle,
)
from kcr.kafka.results import WriteResult
from kcr.kafka.settle import until_shown
from kcr.model import ConfigSource

RATES = (LEADER_THROTTLE_RATE, FOLLOWER_THROTTLE_RATE)
Wanted = dict[str, str | None]  # config key → value, or None to remove it
REPLICA_LISTS = (LEADER_THROTTLED_REPLICAS, FOLLOWER_THROTTLED_REPLICAS)


def move_throttle(topic: TopicInfo, targets: Mapping[int, Iterable[int]]) -> TopicThrottle:
    """The topic's throttled replicas for moving its partitions to ``targets`` (partition →
    brokers), as ``kafka-reassign-partitions`` computes them: the leader throttle on every
    current replica of a moving partition (they send), the follower throttle on the replicas
    the move adds (they receive). Pairs sorted as Kafka's tool sorts them (as text)."""
    sources, destinations = set(), set()
    for partition in topic.partitions:
        wanted = targets.get(partition.partition)
        if wanted is None:
            continue
        current = set(partition.replicas)
        sources |= {f"{partition.partition}:{b}" for b in current}
        destinations |= {f"{partition.partition}:{b}" for b in wanted if b not in current}
    return TopicThrottle(
        topic=topic.name,
        leader_replicas=",".join(sorted(sources)) or None,
        follower_replicas=",".join(sorted(destinations)) or None,
    )


async def _brokers(backend: Backend, brokers: list[int] | None) -> list[int]:
    """The named brokers, each checked against the cluster's; all of them when None."""
    known = sorted(b.id for b in (await backend.metadata([])).brokers)
    if brokers is None:
        return known
    for broker in brokers:
        if broker not in known:
            raise InvalidRequestError(
                f"broker {broker} is not in the cluster (its brokers are "
                f"{', '.join(map(str, known))}); throttles are set on live brokers only"
            )
    return sorted(set(brokers))


async def read_throttles(
    backend: Backend, topics: list[str], brokers: list[int] | None, now: datetime
) -> ReplicationThrottles:
    """The rates set on each broker itself, and the throttled replicas set on each topic."""
    names = sorted(await described(backend, topics))
    chosen = await _brokers(backend, brokers)
    configs = await backend.broker_config_entries(chosen, list(RATES)) if chosen else {}
    return ReplicationThrottles(
        brokers=[
            BrokerThrottle(
                broker=broker,
                leader_rate=_own(configs[broker], LEADER_THROTTLE_RATE),
                follower_rate=_own(configs[broker], FOLLOWER_THROTTLE_RATE),
            )
            for broker in chosen
        ],
        topics=[_topic_throttle(c) for c in await backend.topic_configs(names)] if names else [],
        observed_at=now,
    )


def _own(entries: Mapping[str, ConfigEntry], key: str) -> int | None:
    """A rate set on the broker itself; inherited defaults (Long.MAX_VALUE) are not throttles."""
    entry = entries.get(key)
    if entry is None or entry.source is not ConfigSource.BROKER_OVERRIDE or entry.value is None:
        return None
    return int(entry.value)


def _topic_throttle(configs: TopicConfigs) -> TopicThrottle:
    overrides = configs.overrides()
    leader = overrides.get(LEADER_THROTTLED_REPLICAS)
    follower = overrides.get(FOLLOWER_THROTTLED_REPLICAS)
    return TopicThrottle(
        topic=configs.topic,
        leader_replicas=(leader.value or None) if leader else None,
        follower_replicas=(follower.value or None) if follower else None,
    )


async def set_throttle(
    backend: Backend, rate: int, brokers: list[int], topics: list[TopicThrottle], now: datetime
) -> WriteResult:
    """Both rates on each broker, and each topic's non-null replica lists."""
    if rate < 1:
        raise InvalidRequestError(
            f"rate: a replication throttle must be at least 1 byte per second, not {rate}"
        )
    wanted_brokers: dict[int, Wanted] = {b: {key: str(rate) for key in RATES} for b in brokers}
    wanted_topics: dict[str, Wanted] = {
        t.topic: {
            key: value
            for key, value in zip(
                REPLICA_LISTS, (t.leader_replicas, t.follower_replicas), strict=True
            )
            if value is not None
        }
        for t in topics
    }
    return await _apply(backend, wanted_brokers, wanted_topics, now)


async def remove_throttle(
    backend: Backend, brokers: list[int], topics: list[str], now: datetime
) -> WriteResult:
    """Both rates off each broker, both replica lists off each topic."""
    return await _apply(
        backend,
        {b: dict.fromkeys(RATES) for b in brokers},
        {t: dict.fromkeys(REPLICA_LISTS) for t in topics},
        now,
    )


def _broker_has(found: BrokerThrottle) -> dict[str, str | None]:
    rates = (found.leader_rate, found.follower_rate)
    return {k: None if v is None else str(v) for k, v in zip(RATES, rates, strict=True)}


def _topic_has(found: TopicThrottle) -> dict[str, str | None]:
    lists = (found.leader_replicas, found.follower_replicas)
    return dict(zip(REPLICA_LISTS, lists, strict=True))


async def _apply(
    backend: Backend,
    brokers: dict[int, Wanted],
    topics: dict[str, Wanted],
    now: datetime,
) -> WriteResult:
    current = await read_throttles(backend, sorted(topics), sorted(brokers), now)
    details = []
    for broker in current.brokers:
        change = _differences(_broker_has(broker), brokers[broker.broker])
        if change is not None:
            await backend.alter_broker_config(broker.broker, *change)
            details.append(f"broker {broker.broker}: {_said(*change)}")
    for topic in current.topics:
        change = _differences(_topic_has(topic), topics[topic.topic])
        if change is not None:
            await backend.alter_topic_config(topic.topic, *change)
            details.append(f"topic {topic.topic}: {_said(*change)}")
    if not details:
        return WriteResult.of(False, ["the replication throttles are already as requested"])

    def shown(found: ReplicationThrottles) -> bool:
        return not any(
            _differences(_broker_has(b), brokers[b.broker]) for b in found.brokers
        ) and not any(_differences(_topic_has(t), topics[t.topic]) for t in found.topics)

    await until_shown(
        lambda: read_throttles(backend, sorted(topics), sorted(brokers), now),
        shown,
        "the new replication throttles",
        backend.settings.operation_timeout,
    )
    return WriteResult.of(True, details)


def _differences(
    have: Mapping[str, str | None], wanted: Wanted
) -> tuple[dict[str, str], list[str]] | None:
    """(keys to set, keys to delete), or None when ``have`` is already ``wanted``."""
    to_set = {k: v for k, v in wanted.items() if v is not None and have.get(k) != v}
    to_delete = [k for k, v in wanted.items() if v is None and have.get(k) is not None]
    return (to_set, to_delete) if to_set or to_delete else None


def _said(to_set: dict[str, str], to_delete: list[str]) -> str:
    return ", ".join([f"{k}={v}" for k, v in to_set.items()] + [f"removed {k}" for k in to_delete])
