"""ElectLeaders: LOW when nothing is skewed, MEDIUM when leadership moves; no records move;
a rollback leaves the preferred leaders in place and says so."""

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from kcr import kinds
from kcr.kinds.elect_leaders import ElectLeaders
from kcr.model import (
    Change,
    ClusterPolicy,
    KafkaChangeRequestSpec,
    ObservedReplicaSet,
    ObservedState,
    ObservedTopic,
    RequestedBy,
    Risk,
)
from kcr.plan import review_spec

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _observed(leaders: list[int], isr: list[int] | None = None) -> ObservedState:
    """orders: partition p on [p+1, ...] (3 brokers), led by ``leaders[p]``."""
    placed = [
        ObservedReplicaSet(
            partition=p,
            replicas=[1 + (p + i) % 3 for i in range(3)],
            leader=leader,
            isr=isr if isr is not None else [1, 2, 3],
        )
        for p, leader in enumerate(leaders)
    ]
    topic = ObservedTopic(
        name="orders", partitions=len(leaders), replication_factor=3, assignment=placed
    )
    return ObservedState(captured_at=NOW, brokers=3, broker_ids=[1, 2, 3], topics=[topic])


def _review(observed: ObservedState | None, partitions: list[int] | None = None) -> Any:
    member = ElectLeaders.model_validate(
        {"topics": [{"topic": "orders", "partitions": partitions or []}]}
    )
    spec = KafkaChangeRequestSpec(
        cluster="prod",
        change=Change.of(member),
        requested_by=RequestedBy(principal="alice", channel="mcp"),
        reason="broker 1 restarted and leads nothing",
        observed=observed,
    )
    return review_spec(spec, ClusterPolicy(), NOW)


@pytest.mark.parametrize(
    ("leaders", "partitions", "risk", "words"),
    [
        ([1, 2, 3], None, Risk.LOW, "already led by its preferred replica"),
        ([2, 2, 3], None, Risk.MEDIUM, "leadership of 1 partition(s) moves"),
        ([2, 3, 1], [0], Risk.MEDIUM, "leadership of 1 partition(s) moves"),
    ],
    ids=["balanced", "one-skewed", "only-listed-partitions"],
)
def test_risk_depends_on_how_much_leadership_moves(
    leaders: list[int], partitions: list[int] | None, risk: Risk, words: str
) -> None:
    review = _review(_observed(leaders), partitions)
    assert review.risk is risk
    assert words in review.risk_reasons[0]
    assert review.data_movement.bytes == 0
    assert review.blast_radius.partitions == (0 if risk is Risk.LOW else 1)
    assert review.violations == []


def test_the_rollback_plan_says_leadership_stays_with_the_preferred_replicas() -> None:
    review = _review(_observed([2, 2, 3]))
    assert review.rollback.steps == []
    assert not review.rollback.reversible
    (why,) = review.rollback.irreversible_reasons
    assert why.startswith("leadership is not moved back to the old leaders")
    assert "reorder the replicas with a ReassignPartitions change" in why


def test_a_preferred_replica_out_of_sync_is_a_warning() -> None:
    review = _review(_observed([2, 2, 3], isr=[2, 3]))
    assert any("orders/0 is not in sync" in w for w in review.warnings), review.warnings


def test_partitions_beyond_the_topic_are_refused() -> None:
    (violation,) = _review(_observed([1, 2, 3]), [7]).violations
    assert violation.startswith("spec.change.electLeaders.topics[0].partitions: orders has 3")


def test_the_plan_is_stale_when_a_preferred_replica_changes() -> None:
    member = ElectLeaders.model_validate({"topics": [{"topic": "orders"}]})
    kind = kinds.kind_of(member)
    facts = kind.plan_facts(member, _observed([2, 2, 3]))
    assert facts["topic orders: preferred leaders"] == "0:1 1:2 2:3"
    assert kind.left_facts(member, _observed([1, 2, 3])) == {}


def test_topics_and_partitions_appear_once() -> None:
    with pytest.raises(ValidationError, match="each topic may appear once"):
        ElectLeaders.model_validate({"topics": [{"topic": "orders"}, {"topic": "orders"}]})
    with pytest.raises(ValidationError, match="each partition may appear once"):
        ElectLeaders.model_validate({"topics": [{"topic": "orders", "partitions": [1, 1]}]})
