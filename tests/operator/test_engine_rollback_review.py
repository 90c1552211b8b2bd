"""A rollback asked for after Succeeded is reviewed like a change: one rule per row.

Each row runs a change to Succeeded, then plays what people and Kafka do next, and reads
what the request says: its phase, the reason of its Ready condition and its message.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from engine_world import World, approved, cluster_spec, gated, request
from kcr_builders import alter_config, create_topic, state, topic

from kcr.model import KafkaChangeRequestSpec, ObservedTopic, Phase, Risk

Play = Callable[[World], None]


def created_topic(records: int) -> ObservedTopic:
    return ObservedTopic(name="payments", partitions=3, replication_factor=3, records=records)


def succeeded(spec: KafkaChangeRequestSpec, left: object = None, **policy: object) -> World:
    world = World(request(spec), cluster=cluster_spec(**policy))
    world.left = left  # type: ignore[assignment]
    approved(world)
    assert world.run() is Phase.SUCCEEDED, world.status.message
    return world


def create_topic_world(**policy: object) -> World:
    return succeeded(create_topic(), state(created_topic(records=0)), **policy)


def alter_config_world(**policy: object) -> World:
    return succeeded(alter_config("orders"), state(topic("orders", retention_ms="172800000")))


def _asker_approves(world: World) -> None:
    world.ask_rollback("dave")
    world.run()
    world.approve_rollback("dave", "bob")


def _asker_in_another_spelling(world: World) -> None:
    world.ask_rollback("dave")
    world.run()
    world.approve_rollback(" DAVE", "bob")


def _wrong_hash(world: World) -> None:
    world.ask_rollback("dave")
    world.run()
    world.approve_rollback("bob", "carol", rollback_hash="f" * 64)


def _approval_of_an_earlier_request(world: World) -> None:
    world.ask_rollback("dave")
    world.run()
    earlier = world.status.rollback_review.hash  # type: ignore[union-attr]
    world.annotate({"kcr.dev/abort": "true"})
    world.run()
    assert world.phase is Phase.SUCCEEDED
    world.now += timedelta(minutes=1)
    world.ask_rollback("dave")
    world.run()
    world.approve_rollback("bob", "carol", rollback_hash=earlier)


def _newer_change_before_the_request(world: World) -> None:
    world.left = state(topic("orders", retention_ms="604800000"))
    world.ask_rollback("dave")


def _newer_change_before_the_first_undo(world: World) -> None:
    world.ask_rollback("dave")
    world.run()
    world.left = state(topic("orders", retention_ms="604800000"))
    world.approve_rollback("bob", "carol")


def _window_expired(world: World) -> None:
    world.now += timedelta(hours=2)
    world.ask_rollback("dave")


def _window_closes_while_waiting(world: World) -> None:
    world.ask_rollback("dave")
    world.run()
    world.now += timedelta(hours=2)
    world.approve_rollback("bob", "carol")


def _nobody_named(world: World) -> None:
    world.annotate({"kcr.dev/rollback": "requested"})


def _topic_now_holds_data(world: World) -> None:
    world.left = state(created_topic(records=42))
    world.ask_rollback("dave")
    world.run()
    world.approve_rollback("bob")


def _withdrawn(world: World) -> None:
    world.ask_rollback("dave")
    world.run()
    world.annotate({"kcr.dev/abort": "true"})


def _approved_by_others(world: World) -> None:
    world.ask_rollback("dave")
    world.run()
    world.approve_rollback("alice", "carol")


@dataclass
class Case:
    id: str
    world: Callable[[], World]
    play: Play
    phase: Phase
    reason: str
    says: str


CASES = [
    Case(
        "asker-approves-own-rollback-refused",
        alter_config_world,
        _asker_approves,
        Phase.AWAITING_ROLLBACK_APPROVAL,
        "ApprovalRefused",
        "dave asked for this rollback and may not approve it",
    ),
    Case(
        "asker-in-another-spelling-refused",
        alter_config_world,
        _asker_in_another_spelling,
        Phase.AWAITING_ROLLBACK_APPROVAL,
        "ApprovalRefused",
        "DAVE asked for this rollback and may not approve it",
    ),
    Case(
        "wrong-rollback-hash-refused",
        alter_config_world,
        _wrong_hash,
        Phase.AWAITING_ROLLBACK_APPROVAL,
        "ApprovalRefused",
        "kcr.dev/rollback-approved-hash ffffffffffff does not match status.rollbackReview.hash",
    ),
    Case(
        "approval-of-an-earlier-rollback-request-refused",
        alter_config_world,
        _approval_of_an_earlier_request,
        Phase.AWAITING_ROLLBACK_APPROVAL,
        "ApprovalRefused",
        "the approval was given for another rollback plan or request",
    ),
    Case(
        "stale-after-a-newer-change",
        alter_config_world,
        _newer_change_before_the_request,
        Phase.STALE,
        "RollbackStale",
        "topic orders: retention.ms was 172800000 (TopicOverride) when the change succeeded "
        "and is 604800000 (TopicOverride) now",
    ),
    Case(
        "stale-when-a-newer-change-lands-before-the-first-undo",
        alter_config_world,
        _newer_change_before_the_first_undo,
        Phase.STALE,
        "RollbackStale",
        "the rollback would overwrite a later change and nothing was written",
    ),
    Case(
        "window-expired-refused",
        lambda: create_topic_world(rollback_window_seconds=3600),
        _window_expired,
        Phase.SUCCEEDED,
        "RollbackRefused",
        "rollbackWindowSeconds=3600 allows a rollback only within 3600s of success",
    ),
    Case(
        "window-closing-while-awaiting-approval-refused",
        lambda: create_topic_world(rollback_window_seconds=3600),
        _window_closes_while_waiting,
        Phase.SUCCEEDED,
        "RollbackRefused",
        "rollback refused: the change succeeded at",
    ),
    Case(
        "rollback-without-its-asker-refused",
        alter_config_world,
        _nobody_named,
        Phase.SUCCEEDED,
        "RollbackRefused",
        "needs kcr.dev/rollback-requested-by=<your user name>",
    ),
    Case(
        "deleting-a-topic-with-data-needs-critical-approvals",
        create_topic_world,
        _topic_now_holds_data,
        Phase.AWAITING_ROLLBACK_APPROVAL,
        "InsufficientApprovals",
        "rollback: 1 of 2 required approvals (bob)",
    ),
    Case(
        "withdrawn-with-abort",
        alter_config_world,
        _withdrawn,
        Phase.SUCCEEDED,
        "RollbackWithdrawn",
        "rollback withdrawn with kcr.dev/abort; nothing was changed",
    ),
    Case(
        "approved-by-others-rolls-back",
        alter_config_world,
        _approved_by_others,
        Phase.ROLLED_BACK,
        "RolledBack",
        "rolled back alter-config-orders, restoring: on orders: retention.ms=86400000",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rollback_after_success(case: Case) -> None:
    world = case.world()
    case.play(world)
    world.run()
    ready = next(c for c in world.status.conditions if c.type == "Ready")
    assert world.phase is case.phase, world.status.message
    assert ready.reason == case.reason, ready.message
    assert case.says in world.status.message
    undo_writes = [step for step, rollback in world.writes if rollback]
    assert bool(undo_writes) == (case.phase is Phase.ROLLED_BACK)


def test_the_review_shows_the_plan_its_own_risk_and_who_asked() -> None:
    world = create_topic_world()
    world.left = state(created_topic(records=42))
    world.ask_rollback("dave")
    assert world.run() is Phase.AWAITING_ROLLBACK_APPROVAL
    review = world.status.rollback_review
    assert review is not None
    assert (review.requested_by, review.risk, review.required_approvals) == (
        "dave",
        Risk.CRITICAL,
        2,
    )
    assert review.steps == ["undo-create-topic"]
    assert "undo-create-topic: topic payments holds 42 records that the deletion " in (
        world.status.message
    )
    assert f"bound to rollback plan {review.hash}" in world.status.message
    assert "kcr.dev/rollback" not in world.resource.annotations
    assert world.resource.annotations["kcr.dev/rollback-requested-by"] == "dave"


def test_an_approved_rollback_records_its_approvals() -> None:
    world = alter_config_world()
    world.ask_rollback("dave")
    world.run()
    world.approve_rollback("alice", "carol")
    assert world.run() is Phase.ROLLED_BACK
    review = world.status.rollback_review
    assert review is not None
    assert [(a.user, a.plan_hash) for a in review.approvals] == [
        ("alice", review.hash),
        ("carol", review.hash),
    ]
    assert not any(k.startswith("kcr.dev/rollback") for k in world.resource.annotations)
    entered = [h for h in world.status.history if h.phase is Phase.ROLLING_BACK]
    assert entered[0].reason == "RollbackApproved"
    assert "asked for by dave and approved by alice, carol" in entered[0].message


def test_the_state_a_change_left_is_recorded_when_it_succeeds() -> None:
    world = alter_config_world()
    assert world.status.succeeded_at is not None
    left = world.status.post_change
    assert left is not None
    assert left.topic("orders").configs["retention.ms"].value == "172800000"  # type: ignore[union-attr]


def test_a_rollback_asked_for_while_paused_is_part_of_the_approved_change() -> None:
    world = World(request(gated(alter_config("orders", "invoices"))))
    approved(world)
    assert world.run() is Phase.PAUSED
    world.ask_rollback("bob")
    assert world.run() is Phase.ROLLED_BACK
    entered = [h for h in world.status.history if h.phase is Phase.ROLLING_BACK]
    assert entered[0].reason == "RollbackRequested"
    assert entered[0].message.startswith("rollback requested while paused by bob")
    assert not any(k.startswith("kcr.dev/rollback") for k in world.resource.annotations)
