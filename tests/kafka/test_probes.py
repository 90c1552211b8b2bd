"""Verdict rules on read-model values, without a cluster."""

from datetime import UTC, datetime

import pytest

from kcr.kafka.probes import min_insync_verdict
from kcr.kafka.readmodel import ConfigEntry, PartitionInfo, TopicConfigs, TopicInfo
from kcr.model import ConfigSource

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ORDERS = TopicInfo(
    name="orders",
    partitions=[PartitionInfo(partition=0, leader=1, replicas=[1, 2, 3], isr=[1, 2])],
)


@pytest.mark.parametrize(
    ("entries", "limit", "source", "passed", "note"),
    [
        (
            {"min.insync.replicas": ConfigEntry(value="3", source=ConfigSource.TOPIC_OVERRIDE)},
            3,
            "topic config (TopicOverride)",
            False,
            "",
        ),
        (
            {"min.insync.replicas": ConfigEntry(value="2", source=ConfigSource.STATIC_BROKER)},
            2,
            "topic config (StaticBroker)",
            True,
            "",
        ),
        (
            {},
            1,
            "broker default assumed 1",
            True,
            "; broker default assumed 1 for orders, whose configuration lacks it",
        ),
        (
            {"min.insync.replicas": ConfigEntry(value=None, sensitive=True)},
            1,
            "broker default assumed 1",
            True,
            "; broker default assumed 1 for orders, whose configuration lacks it",
        ),
    ],
    ids=["topic-override", "broker-static", "not-reported", "hidden"],
)
def test_min_insync_limit_says_where_it_came_from(
    entries: dict[str, ConfigEntry], limit: int, source: str, passed: bool, note: str
) -> None:
    configs = {"orders": TopicConfigs(topic="orders", configs=entries)}
    verdict = min_insync_verdict([ORDERS], configs, NOW)
    (measurement,) = verdict.measurements
    assert (measurement.value, measurement.limit, measurement.limit_source) == (2, limit, source)
    assert verdict.passed is passed
    assert verdict.message.endswith(note)
