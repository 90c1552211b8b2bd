"""Where a drain or a new replication factor puts replicas: each partition keeps its
surviving replicas in order, new ones go to the least loaded brokers, impossible asks say
why."""

from collections import Counter

import pytest

from kcr.kinds.placement import PlacementError, drain, replica_load, resize

BROKERS = [1, 2, 3, 4]


def _targets(topics: list[object]) -> dict[tuple[str, int], list[int]]:
    return {
        (t.topic, p.partition): p.replicas  # type: ignore[attr-defined]
        for t in topics
        for p in t.partitions  # type: ignore[attr-defined]
    }


def test_a_drain_moves_every_replica_off_the_broker_keeping_the_replication_factor() -> None:
    assignment = {
        "orders": {0: [1, 2], 1: [2, 3], 2: [3, 1]},
        "payments": {0: [1, 4, 2]},
    }
    moved = _targets(drain(assignment, BROKERS, 1, replica_load(assignment)))
    assert set(moved) == {("orders", 0), ("orders", 2), ("payments", 0)}, "1 is untouched"
    assert all(1 not in replicas for replicas in moved.values())
    assert moved[("orders", 0)][0] == 2, "the surviving replica leads"
    assert moved[("orders", 2)][0] == 3
    assert [len(moved[k]) for k in sorted(moved)] == [2, 2, 3]
    assert moved[("orders", 0)][1] == 4, "the least loaded broker receives first"


def test_a_drain_spreads_the_new_replicas() -> None:
    assignment = {"orders": {p: [1, 2] for p in range(4)}}
    load = replica_load(assignment)
    moved = _targets(drain(assignment, BROKERS, 1, load))
    receivers = Counter(replicas[1] for replicas in moved.values())
    assert receivers == {3: 2, 4: 2}


def test_a_drain_that_leaves_too_few_brokers_says_so() -> None:
    assignment = {"orders": {0: [1, 2, 3]}}
    with pytest.raises(PlacementError, match=r"orders/0 needs 3 replicas on distinct brokers"):
        drain(assignment, [1, 2, 3], 1, replica_load(assignment))


@pytest.mark.parametrize(
    ("current", "rf", "wanted"),
    [
        ({0: [1, 2], 1: [2, 3]}, 3, {0: [1, 2, 4], 1: [2, 3, 1]}),
        ({0: [1, 2, 3], 1: [2, 3, 4]}, 2, {0: [1, 2], 1: [2, 3]}),
        ({0: [1, 2]}, 2, {0: [1, 2]}),
    ],
    ids=["grow", "shrink", "same"],
)
def test_resize_lists_every_partition_with_the_new_factor(
    current: dict[int, list[int]], rf: int, wanted: dict[int, list[int]]
) -> None:
    topic = resize("orders", current, BROKERS, rf, replica_load({"orders": current}))
    assert topic.replication_factor == rf
    assert {p.partition: p.replicas for p in topic.partitions} == wanted


def test_resize_beyond_the_brokers_says_so() -> None:
    with pytest.raises(PlacementError, match="add brokers or lower the replication factor"):
        resize("orders", {0: [1, 2]}, [1, 2], 3, Counter())
