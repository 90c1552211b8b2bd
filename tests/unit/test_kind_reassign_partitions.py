"""ReassignPartitions: what a reviewer is told (bytes, time, risk, refusals), the plan of
throttled batches, and the rollback that moves replicas back to the snapshot."""

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from kcr import kinds
from kcr.kinds.reassign_partitions import ReassignPartitions
from kcr.model import (
    Change,
    ClusterPolicy,
    ConfigSource,
    KafkaChangeRequestSpec,
    ObservedConfig,
    ObservedReplicaSet,
    ObservedState,
    ObservedTopic,
    RequestedBy,
    Risk,
    Storage,
)
from kcr.model.cluster import Limits
from kcr.plan import review_spec

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
GIB = 2**30
MIB = 2**20


def _member(moves: dict[int, list[int]], **extra: Any) -> ReassignPartitions:
    return ReassignPartitions.model_validate(
        {
            "topics": [
                {
                    "topic": "orders",
                    "partitions": [{"partition": p, "replicas": r} for p, r in moves.items()],
                }
            ],
            "throttleBytesPerSecond": 10 * MIB,
            **extra,
        }
    )


def _observed(sizes: int | None = GIB, *, min_isr: str = "1", partitions: int = 3) -> ObservedState:
    """orders: partition p on brokers [p+1, p+2 mod 3] led by its first replica."""
    placed = [
        ObservedReplicaSet(
            partition=p,
            replicas=[1 + p % 3, 1 + (p + 1) % 3],
            leader=1 + p % 3,
            isr=[1 + p % 3, 1 + (p + 1) % 3],
            bytes=sizes,
        )
        for p in range(partitions)
    ]
    topic = ObservedTopic(
        name="orders",
        partitions=partitions,
        replication_factor=2,
        configs={
            "min.insync.replicas": ObservedConfig(value=min_isr, source=ConfigSource.TOPIC_OVERRIDE)
        },
        assignment=placed,
    )
    return ObservedState(captured_at=NOW, brokers=3, broker_ids=[1, 2, 3], topics=[topic])


def _review(
    member: ReassignPartitions,
    observed: ObservedState | None,
    *,
    policy: ClusterPolicy | None = None,
    storage: Storage = Storage.LOCAL,
) -> Any:
    spec = KafkaChangeRequestSpec(
        cluster="prod",
        change=Change.of(member),
        requested_by=RequestedBy(principal="alice", channel="mcp"),
        reason="move replicas off broker 1",
        observed=observed,
    )
    return review_spec(spec, policy or ClusterPolicy(), NOW, storage=storage)


# partition 0 is on [1, 2] led by 1; partition 1 on [2, 3] led by 2; partition 2 on [3, 1].
@pytest.mark.parametrize(
    ("moves", "sizes", "risk", "reason"),
    [
        ({1: [3, 2]}, GIB, Risk.MEDIUM, "1 partition(s) get a new preferred leader"),
        ({1: [2, 3]}, GIB, Risk.LOW, "every listed partition is already on its target"),
        ({0: [2, 3]}, GIB, Risk.MEDIUM, "1 partition(s) lose their leader"),
        ({0: [3, 2]}, 11 * GIB, Risk.HIGH, "copies 11 GiB, more than 10 GiB"),
        ({0: [3, 2]}, None, Risk.HIGH, "the size of the partitions could not be read"),
        ({0: [1]}, GIB, Risk.MEDIUM, "1 partition(s) keep fewer replicas"),
    ],
    ids=["reorder", "no-op", "leader-leaves", "large", "size-unknown", "shrink"],
)
def test_risk_grows_with_bytes_and_leadership_changes(
    moves: dict[int, list[int]], sizes: int | None, risk: Risk, reason: str
) -> None:
    review = _review(_member(moves), _observed(sizes))
    assert review.risk is risk
    assert any(reason in r for r in review.risk_reasons), review.risk_reasons


def test_the_estimate_counts_each_added_replica_and_the_busiest_broker() -> None:
    # Partition 0 gains broker 3 and partition 1 gains broker 1: each receives one copy and
    # leaders 1 and 2 each send one, in parallel: 1 GiB at 10 MiB/s per broker is 103 s.
    review = _review(_member({0: [1, 2, 3], 1: [2, 3, 1]}, batchSize=10), _observed())
    moved = review.data_movement
    assert moved.bytes == 2 * GIB
    assert moved.seconds == 103
    assert "adds 2 replica(s) to 2 partition(s)" in moved.summary
    assert "in 1 batch(es) of up to 10 partitions, about 2m at 10 MiB/s per broker" in moved.summary


def test_the_busiest_broker_sets_the_pace() -> None:
    # Partitions 0 and 3 both live on [1, 2] led by 1 and both gain broker 3: broker 3
    # receives 2 GiB and broker 1 sends 2 GiB, at 10 MiB/s each: 205 s.
    moved = _review(_member({0: [1, 2, 3], 3: [1, 2, 3]}), _observed(partitions=4))
    assert moved.data_movement.bytes == 2 * GIB
    assert moved.data_movement.seconds == 205


def test_the_blast_radius_counts_the_partitions_that_move() -> None:
    review = _review(_member({0: [2, 3], 2: [1, 2]}), _observed(partitions=6))
    assert (review.blast_radius.topics, review.blast_radius.partitions) == (["orders"], 2)


def test_batches_run_one_after_another() -> None:
    review = _review(_member({0: [1, 2, 3], 1: [2, 3, 1]}, batchSize=1), _observed())
    assert review.data_movement.seconds == 2 * 103


@pytest.mark.parametrize(
    ("storage", "moved_bytes", "words"),
    [
        (Storage.LOCAL, GIB, "each added replica copies its partition from the leader"),
        (Storage.TIERED, GIB, "only the local segments are copied"),
        (Storage.SHARED, 0, "no records are copied (the logs hold 1.0 GiB on local disks)"),
    ],
)
def test_storage_decides_what_a_move_copies(storage: Storage, moved_bytes: int, words: str) -> None:
    moved = _review(_member({0: [1, 2, 3]}), _observed(), storage=storage).data_movement
    assert moved.bytes == moved_bytes
    assert words in moved.summary


def test_without_an_observed_state_the_bytes_are_unknown() -> None:
    review = _review(_member({0: [2, 3]}), None)
    assert review.data_movement.bytes is None
    assert review.risk is Risk.HIGH


@pytest.mark.parametrize(
    ("member", "observed", "policy", "violation"),
    [
        (
            _member({0: [2, 3]}),
            _observed(),
            ClusterPolicy(cruise_control=True),
            "Cruise Control balances this cluster's replicas (policy.cruiseControl)",
        ),
        (
            _member({5: [2, 3]}),
            _observed(),
            ClusterPolicy(),
            "topics[0].partitions: orders has 3 partitions (0 to 2); partition(s) 5 do not exist",
        ),
        (
            _member({0: [2, 4]}),
            _observed(),
            ClusterPolicy(),
            "broker(s) 4 are not in the cluster (its brokers: 1, 2, 3)",
        ),
        (
            _member({0: [2]}),
            _observed(min_isr="2"),
            ClusterPolicy(),
            "fewer replicas than min.insync.replicas=2 of orders",
        ),
        (
            _member({0: [2]}),
            _observed(),
            ClusterPolicy(limits=Limits(min_replication_factor=2)),
            "fewer than 2 replicas, this cluster's minimum (policy.limits.minReplicationFactor)",
        ),
        (
            ReassignPartitions.model_validate(
                {
                    "topics": [
                        {
                            "topic": "orders",
                            "replicationFactor": 3,
                            "partitions": [{"partition": 0, "replicas": [1, 2, 3]}],
                        }
                    ],
                    "throttleBytesPerSecond": MIB,
                }
            ),
            _observed(),
            ClusterPolicy(),
            "topics[0].replicationFactor: a new replication factor for orders lists every "
            "partition; missing: 1, 2",
        ),
        (
            _member({0: [3, 2]}, batchTimeoutSeconds=60),
            _observed(),
            ClusterPolicy(),
            "batchTimeoutSeconds: batch 1 copies 1.0 GiB, about 2m at 10 MiB/s per broker, "
            "longer than 60s",
        ),
    ],
    ids=[
        "cruise-control",
        "no-partition",
        "no-broker",
        "below-min-isr",
        "below-min-rf",
        "rf-lists-all",
        "too-slow",
    ],
)
def test_review_refuses_naming_field_and_rule(
    member: ReassignPartitions, observed: ObservedState, policy: ClusterPolicy, violation: str
) -> None:
    review = _review(member, observed, policy=policy)
    assert any(violation in v for v in review.violations), review.violations
    assert all(v.startswith("spec.change.reassignPartitions") for v in review.violations)


def test_a_partition_already_moving_elsewhere_is_refused() -> None:
    observed = _observed()
    topic = observed.topics[0]
    moving = topic.assignment[0].model_copy(update={"moving_to": [1, 3]})
    observed = observed.model_copy(
        update={"topics": [topic.model_copy(update={"assignment": [moving]})]}
    )
    (violation,) = _review(_member({0: [2, 3]}), observed).violations
    assert "already moving (orders/0 to [1, 3], ListPartitionReassignments)" in violation


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ({0: [1, 1]}, "broker 1 appears more than once"),
        ({0: []}, "List should have at least 1 item"),
        ({0: [-1]}, "greater than or equal to 0"),
    ],
    ids=["duplicate-broker", "empty-list", "negative-broker"],
)
def test_a_replica_list_is_checked(document: dict[int, list[int]], error: str) -> None:
    with pytest.raises(ValidationError, match=error) as raised:
        _member(document)
    assert "replicas" in str(raised.value)


def test_a_topic_appears_once_and_its_partitions_once() -> None:
    twice = {"topic": "orders", "partitions": [{"partition": 0, "replicas": [1]}]}
    with pytest.raises(ValidationError, match="each topic may appear once"):
        ReassignPartitions.model_validate({"topics": [twice, twice], "throttleBytesPerSecond": MIB})
    with pytest.raises(ValidationError, match="each partition may appear once; repeated: 0"):
        _member_with_partitions([0, 0])
    with pytest.raises(ValidationError, match="replicationFactor is 3, but partition"):
        ReassignPartitions.model_validate(
            {"topics": [{**twice, "replicationFactor": 3}], "throttleBytesPerSecond": MIB}
        )


def _member_with_partitions(partitions: list[int]) -> ReassignPartitions:
    return ReassignPartitions.model_validate(
        {
            "topics": [
                {
                    "topic": "orders",
                    "partitions": [{"partition": p, "replicas": [1]} for p in partitions],
                }
            ],
            "throttleBytesPerSecond": MIB,
        }
    )


def test_too_many_batches_are_refused() -> None:
    with pytest.raises(ValidationError, match="make 51 batches, more than 50"):
        ReassignPartitions.model_validate(
            {
                "topics": [
                    {
                        "topic": "orders",
                        "partitions": [{"partition": p, "replicas": [1]} for p in range(51)],
                    }
                ],
                "throttleBytesPerSecond": MIB,
                "batchSize": 1,
            }
        )


def test_each_batch_is_throttled_moved_awaited_and_unthrottled() -> None:
    review = _review(_member({0: [2, 3], 1: [3, 1], 2: [1, 2]}, batchSize=2), _observed())
    stages = review.plan.stages
    assert [s.name for s in stages] == ["batch-1", "batch-2"]
    assert [[step.id for step in s.steps] for s in stages] == [
        ["throttle-1", "move-1", "await-1", "unthrottle-1"],
        ["throttle-2", "move-2", "await-2", "unthrottle-2"],
    ]
    assert [step.description for step in stages[0].steps] == [
        "throttle replication of 2 partition(s) of orders to 10 MiB/s per broker",
        "move orders/0 to [2, 3], orders/1 to [3, 1] at up to 10 MiB/s per broker",
        "wait until orders/0 is on [2, 3], orders/1 is on [3, 1]",
        "remove the replication throttle of 2 partition(s) of orders",
    ]
    assert [step.timeout_seconds for step in stages[0].steps] == [None, None, 3600, None]


def test_the_rollback_moves_back_to_the_snapshot_throttled_newest_first() -> None:
    review = _review(_member({0: [2, 3]}), _observed())
    rollback = review.rollback
    assert rollback.reversible
    assert [(s.id, s.undoes) for s in rollback.steps] == [
        ("undo-unthrottle-1", "unthrottle-1"),
        ("undo-move-1", "move-1"),
        ("undo-throttle-1", "throttle-1"),
    ]
    assert [s.description for s in rollback.steps] == [
        "throttle replication of 1 partition(s) of orders to 10 MiB/s per broker",
        "wait until orders/0 is on [1, 2]",
        "remove the replication throttle of 1 partition(s) of orders",
    ]
    back = rollback.steps[0].operation.member
    assert back.topics[0].partitions[0].replicas == [1, 2]
    assert rollback.steps[1].operation.type == "AwaitReassignment", "moves back and waits"
    assert rollback.steps[1].timeout_seconds == 3600


def test_without_the_old_replicas_the_rollback_says_to_move_them_by_hand() -> None:
    review = _review(_member({0: [2, 3]}), None)
    assert not review.rollback.reversible
    assert any("move them by hand" in r for r in review.rollback.irreversible_reasons)


def test_the_plan_is_stale_when_the_replicas_moved_since_the_draft() -> None:
    member = _member({0: [2, 3]})
    kind = kinds.kind_of(member)
    drafted = kind.plan_facts(member, _observed())
    assert drafted["topic orders: replicas of the moved partitions"] == "0:1,2"
    assert drafted["brokers"] == "1,2,3"
    moved = _observed()
    topic = moved.topics[0]
    elsewhere = topic.assignment[0].model_copy(update={"replicas": [1, 3]})
    moved.topics[0] = topic.model_copy(update={"assignment": [elsewhere, *topic.assignment[1:]]})
    assert kind.plan_facts(member, moved) != drafted
    assert "brokers" not in kind.left_facts(member, moved)
