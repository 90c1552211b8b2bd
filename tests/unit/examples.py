"""Small builders for test objects, so each test states only what it is about."""

from datetime import UTC, datetime
from typing import Any

from kcr.model import (
    Change,
    ConfigSource,
    KafkaChangeRequestSpec,
    ObservedConfig,
    ObservedState,
    ObservedTopic,
    RequestedBy,
)
from kcr.model.base import KubeModel

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def spec_of(
    member: KubeModel, observed: ObservedState | None = None, **extra: Any
) -> KafkaChangeRequestSpec:
    return KafkaChangeRequestSpec(
        cluster="prod",
        change=Change.of(member),
        requested_by=RequestedBy(principal="alice", channel="kubectl"),
        reason="test",
        observed=observed,
        **extra,
    )


def topic(
    name: str, partitions: int = 6, rf: int = 3, **configs: tuple[str, ConfigSource]
) -> ObservedTopic:
    return ObservedTopic(
        name=name,
        partitions=partitions,
        replication_factor=rf,
        configs={
            key.replace("_", "."): ObservedConfig(value=value, source=source)
            for key, (value, source) in configs.items()
        },
    )


def observed(*topics: ObservedTopic, **extra: Any) -> ObservedState:
    return ObservedState(captured_at=NOW, brokers=3, topics=list(topics), **extra)
