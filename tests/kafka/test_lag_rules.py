"""Lag arithmetic and hot-partition rules, without a broker."""

from datetime import UTC, datetime

import pytest

from kcr.kafka.lag import build_lag_report, partition_lag
from kcr.kafka.probes import positions
from kcr.kafka.readmodel import (
    CommittedOffset,
    GroupOffsets,
    HotPartitionRule,
    LagReport,
    PartitionOffsets,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("committed", "log_end", "expected"),
    [
        (None, 10, None),
        (-1, 10, None),
        (0, 10, 10),
        (10, 10, 0),
        (12, 10, 0),
    ],
    ids=["no-commit", "kafka-minus-one", "from-start", "caught-up", "ahead-after-truncation"],
)
def test_partition_lag(committed: int | None, log_end: int, expected: int | None) -> None:
    assert partition_lag(committed, log_end) == expected


def _report(lags: list[int | None], rule: HotPartitionRule) -> list[int]:
    """Hot partitions of one group on one topic whose log ends at 10_000."""
    offsets = [
        CommittedOffset(topic="t", partition=i, offset=None if lag is None else 10_000 - lag)
        for i, lag in enumerate(lags)
    ]
    log = {
        ("t", i): PartitionOffsets(topic="t", partition=i, earliest=0, latest=10_000)
        for i in range(len(lags))
    }
    report = build_lag_report(NOW, [GroupOffsets(group="g", offsets=offsets)], log, None, rule)
    return [h.partition for h in report.hot_partitions]


@pytest.mark.parametrize(
    ("lags", "hot"),
    [
        ([500, 10, 10, 10], [0]),
        ([500, 0, 0, 0], [0]),
        ([500, 200, 200], []),
        ([501, 167, 167], [0]),
        ([90, 0, 0], []),
        ([500], []),
        ([500, None], []),
        ([500, 500, 0], []),
        ([500, 500, 0, 0], [0, 1]),
        ([900, 100, 100, 100, 100], [0]),
    ],
    ids=[
        "one-far-behind",
        "siblings-caught-up",
        "below-factor",
        "exactly-at-factor",
        "below-min-lag",
        "single-partition",
        "sibling-without-commit",
        "two-of-three-equally-behind",
        "two-of-four-equally-behind",
        "five-partitions",
    ],
)
def test_hot_partitions(lags: list[int | None], hot: list[int]) -> None:
    assert _report(lags, HotPartitionRule(factor=3.0, min_lag=100)) == hot


def test_report_totals_and_order() -> None:
    groups = [
        GroupOffsets(
            group="b",
            offsets=[
                CommittedOffset(topic="t", partition=1, offset=4),
                CommittedOffset(topic="t", partition=0, offset=1),
                CommittedOffset(topic="gone", partition=0, offset=3),
            ],
        ),
        GroupOffsets(group="a", offsets=[CommittedOffset(topic="t", partition=0, offset=None)]),
    ]
    log = {
        ("t", 0): PartitionOffsets(topic="t", partition=0, earliest=0, latest=5),
        ("t", 1): PartitionOffsets(topic="t", partition=1, earliest=2, latest=7),
    }
    report = build_lag_report(NOW, groups, log, None, HotPartitionRule())
    assert [g.group for g in report.groups] == ["a", "b"]
    b = report.group("b")
    assert b is not None
    assert b.total_lag == 4 + 3
    assert [(p.partition, p.lag, p.log_start) for p in b.topics[0].partitions] == [
        (0, 4, 0),
        (1, 3, 2),
    ]
    assert [t.topic for t in b.topics] == ["t"], "a partition whose log is unknown is left out"
    a = report.group("a")
    assert a is not None
    assert a.total_lag == 0
    assert a.topics[0].partitions[0].lag is None
    assert report.total_lag == 7
    assert report.partitions == 3
    assert report.observed_at == NOW


def _lag_of(groups: dict[str, int | None]) -> LagReport:
    """A report where each group has the given lag on one partition, or no commit (None)."""
    log = {("t", 0): PartitionOffsets(topic="t", partition=0, earliest=0, latest=100)}
    offsets = [
        GroupOffsets(
            group=name,
            offsets=[]
            if lag is None
            else [CommittedOffset(topic="t", partition=0, offset=100 - lag)],
        )
        for name, lag in groups.items()
    ]
    return build_lag_report(NOW, offsets, log, None, HotPartitionRule())


def test_positions_leave_out_a_group_without_commits() -> None:
    """A made-up 0 would make its first commit look like records read."""
    found = positions(_lag_of({"billing": 7, "ghost": None}), ["billing", "ghost", "typo"])
    assert found.observed_at == NOW
    assert [(p.group, p.committed, p.log_end, p.partitions) for p in found.groups] == [
        ("billing", 93, 100, 1)
    ]


def test_positions_sum_the_partitions_of_every_topic() -> None:
    log = {
        (t, p): PartitionOffsets(topic=t, partition=p, earliest=0, latest=50 * (p + 1))
        for t in ("a", "b")
        for p in range(2)
    }
    committed = [
        CommittedOffset(topic="a", partition=0, offset=10),
        CommittedOffset(topic="a", partition=1, offset=None),
        CommittedOffset(topic="b", partition=1, offset=90),
    ]
    report = build_lag_report(
        NOW, [GroupOffsets(group="g", offsets=committed)], log, None, HotPartitionRule()
    )
    (found,) = positions(report, ["g"]).groups
    assert (found.committed, found.log_end, found.partitions, found.lag) == (100, 150, 2, 50)
