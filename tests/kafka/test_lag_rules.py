"""Lag arithmetic and hot-partition rules, without a broker."""

from datetime import UTC, datetime

import pytest

from kcr.kafka.lag import build_lag_report, partition_lag
from kcr.kafka.probes import lag_verdict
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


@pytest.mark.parametrize(
    ("baseline", "growth", "passed", "measured", "message"),
    [
        (None, None, True, {"billing": 7}, "lag of billing=7; no committed offsets: ghost"),
        (
            {"billing": 5},
            10,
            False,
            {"billing": 7},
            "lag of billing=7; no committed offsets, now or at the baseline, so lag cannot be "
            "bounded: ghost",
        ),
        (
            {"billing": 5, "ghost": 3},
            10,
            True,
            {"billing": 7},
            "lag of billing=7; no committed offsets: ghost (lag was 3)",
        ),
        (
            {"billing": 5},
            1,
            False,
            {"billing": 7},
            "lag grew too much: billing lag 7, was 5, allowed growth 1; no committed offsets, "
            "now or at the baseline, so lag cannot be bounded: ghost",
        ),
    ],
    ids=["sample", "never-committed-fails", "offsets-gone-since-baseline", "grown-and-never"],
)
def test_a_group_without_commits_is_named_not_counted_as_zero(
    baseline: dict[str, int] | None,
    growth: int | None,
    passed: bool,
    measured: dict[str, int],
    message: str,
) -> None:
    report = _lag_of({"billing": 7, "ghost": None})
    verdict = lag_verdict(report, ["billing", "ghost"], baseline, growth)
    assert verdict.passed is passed
    assert {m.subject: m.value for m in verdict.measurements} == measured
    assert verdict.message == message


def test_a_group_missing_from_the_report_has_no_commits() -> None:
    verdict = lag_verdict(_lag_of({}), ["typo"], {}, 5)
    assert not verdict.passed
    assert verdict.measurements == []
    assert verdict.message.endswith("so lag cannot be bounded: typo")
