"""Turning reset targets into concrete offsets, without a broker."""

from datetime import UTC, datetime

import pytest

from kcr.kafka import InvalidRequestError, NotFoundError
from kcr.kafka.offsets import resolve_target
from kcr.kafka.readmodel import PartitionOffsets, TopicPartition
from kcr.model import OffsetTarget, PartitionOffset

P0 = TopicPartition(topic="t", partition=0)
P1 = TopicPartition(topic="t", partition=1)
PARTITIONS = [P1, P0]
LOG = {
    ("t", 0): PartitionOffsets(topic="t", partition=0, earliest=10, latest=50),
    ("t", 1): PartitionOffsets(topic="t", partition=1, earliest=0, latest=5),
}
COMMITTED = {("t", 0): 40, ("t", 1): None}


def _resolve(
    target: OffsetTarget, at_time: dict[TopicPartition, int | None] | None = None
) -> list[tuple[int, int]]:
    rows = resolve_target(target, PARTITIONS, LOG, COMMITTED, at_time or {})
    return [(r.partition, r.offset) for r in rows]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (OffsetTarget(earliest=True), [(0, 10), (1, 0)]),
        (OffsetTarget(latest=True), [(0, 50), (1, 5)]),
        (OffsetTarget(shift_by=-5), [(0, 35)]),
        (OffsetTarget(shift_by=-100), [(0, 10)]),
        (OffsetTarget(shift_by=100), [(0, 50)]),
    ],
    ids=["earliest", "latest", "shift-back", "shift-clamped-to-start", "shift-clamped-to-end"],
)
def test_targets(target: OffsetTarget, expected: list[tuple[int, int]]) -> None:
    assert _resolve(target) == expected


def test_timestamp_past_the_end_resolves_to_log_end() -> None:
    target = OffsetTarget(timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    at_time: dict[TopicPartition, int | None] = {P0: None, P1: 3}
    assert _resolve(target, at_time) == [(0, 50), (1, 3)]


def test_timestamp_before_the_log_start_is_clamped() -> None:
    target = OffsetTarget(timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    assert _resolve(target, {P0: 2, P1: 0}) == [(0, 10), (1, 0)]


def test_explicit_offsets_must_lie_in_the_log() -> None:
    wanted = OffsetTarget(offsets=[PartitionOffset(topic="t", partition=0, offset=9)])
    with pytest.raises(InvalidRequestError, match=r"offset 9 for t/0 is outside the log.*10 to 50"):
        _resolve(wanted)


def test_explicit_offsets_must_name_a_partition() -> None:
    wanted = OffsetTarget(offsets=[PartitionOffset(topic="t", partition=7, offset=0)])
    with pytest.raises(NotFoundError, match="partition 7 of topic t does not exist") as caught:
        _resolve(wanted)
    assert caught.value.name == "t/7"
