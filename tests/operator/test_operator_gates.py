"""Health gates, the manual gate, abort, failure policies and rollback, end to end."""

from collections.abc import Awaitable, Callable

import pytest
from kafka_setup import consumed, draft, prepare, topic
from operator_harness import CountingClock, Harness
from waiting import eventually

from kcr.kafka.errors import InvalidRequestError
from kcr.kafka.fake import FakeCluster
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.model import FailurePolicy, HealthGates, OffsetTarget

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

Primitive = Callable[..., Awaitable[None]]
DECISIONS = 3
"""Decisions to wait for where nothing should happen; each reads the clock at least twice."""


def after_write_to(cluster: FakeCluster, topic: str, then: Callable[[], None]) -> None:
    """Run ``then`` right after the config write to ``topic`` (a side effect of the change)."""
    original: Primitive = cluster.alter_topic_config

    async def alter(name: str, set_: dict[str, str], delete: list[str]) -> None:
        await original(name, set_, delete)
        if name == topic:
            then()

    cluster.alter_topic_config = alter  # type: ignore[method-assign]


def retention(cluster: FakeCluster, topic: str) -> str:
    return cluster.topics[topic].overrides["retention.ms"]


def stage(status: dict, name: str) -> dict:  # type: ignore[type-arg]
    return next(s for s in status["plan"]["stages"] if s["name"] == name)


async def approved(harness: Harness, name: str, spec: object) -> None:
    await harness.kubectl.create(name, spec)  # type: ignore[arg-type]
    await harness.kubectl.wait_phase(name, "AwaitingApproval")
    await harness.kubectl.approve(name, "bob", "carol")


async def test_gate_failure_rolls_back_completed_steps(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    member = await prepare("AlterTopicConfig", fake_cluster)
    spec = await draft(harness.kafka, member, bake_seconds=1)
    after_write_to(fake_cluster, "orders", lambda: fake_cluster.take_offline("orders", 1))
    await harness.start()
    await approved(harness, "change", spec)

    status = await harness.kubectl.wait_phase("change", "RolledBack", "RollbackFailed", "Succeeded")

    assert status["phase"] == "RolledBack", status["message"]
    assert status["message"].startswith("rolled back alter-config-orders, restoring: on orders:")
    canary = stage(status, "canary")
    assert canary["gateState"] == "Failed"
    assert "OfflinePartitions: FAILED" in canary["gateResult"]
    assert "orders/1" in canary["gateResult"]
    assert canary["steps"][0]["state"] == "RolledBack"
    assert stage(status, "batch-1")["steps"][0]["state"] == "Pending"
    undo = {s["id"]: s["state"] for s in status["rollbackPlan"]["steps"]}
    assert undo == {
        "undo-alter-config-invoices": "Skipped",
        "undo-alter-config-orders": "Succeeded",
    }
    assert retention(fake_cluster, "orders") == "86400000"
    assert retention(fake_cluster, "invoices") == "86400000"
    events = await harness.kubectl.events_with(
        "change", "GateFailed", "RollbackStepSucceeded", "RolledBack"
    )
    reasons = [e["reason"] for e in events]
    assert reasons[-3:] == ["GateFailed", "RollbackStepSucceeded", "RolledBack"]


async def test_rollback_restores_the_offsets_live_at_execution_not_the_drafted_ones(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    await topic(fake_cluster, "orders")
    await topic(fake_cluster, "audit")
    await consumed(fake_cluster, "billing", "orders")
    reset = ResetConsumerGroupOffsets(
        group="billing", topics=["orders"], to=OffsetTarget(earliest=True)
    )
    spec = await draft(harness.kafka, reset, bake_seconds=1)
    # The consumers keep committing after the draft: offsets move on, the plan stays valid.
    fake_cluster.commit("billing", {("orders", p): 7 for p in range(3)})
    original: Primitive = fake_cluster.commit_offsets

    async def commit_then_break(group: str, offsets: list[object]) -> None:
        await original(group, offsets)
        fake_cluster.take_offline("audit", 0)

    fake_cluster.commit_offsets = commit_then_break  # type: ignore[method-assign]
    await harness.start()
    await approved(harness, "change", spec)

    status = await harness.kubectl.wait_phase("change", "RolledBack", "RollbackFailed", "Succeeded")

    assert status["phase"] == "RolledBack", status["message"]
    assert "OfflinePartitions: FAILED" in stage(status, "apply")["gateResult"]
    assert fake_cluster.groups["billing"].committed == {("orders", p): 7 for p in range(3)}
    assert [p["committed"] for p in status["snapshot"]["consumerGroups"][0]["partitions"]] == [
        7,
        7,
        7,
    ]


async def test_failed_step_rolls_back_and_says_what_is_left(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    member = await prepare("AlterTopicConfig", fake_cluster)
    spec = await draft(harness.kafka, member)

    def break_everything() -> None:
        fake_cluster.fail(
            "alter_topic_config", InvalidRequestError("the broker refused the write"), times=10
        )

    after_write_to(fake_cluster, "orders", break_everything)
    await harness.start()
    await approved(harness, "change", spec)

    status = await harness.kubectl.wait_phase("change", "RollbackFailed", "RolledBack", "Failed")

    assert status["phase"] == "RollbackFailed"
    assert status["message"].startswith(
        "rollback step undo-alter-config-orders failed: the broker refused the write (rolling "
        "back because step alter-config-invoices failed: the broker refused the write)"
    )
    assert (
        "left to do by hand, in this order: on orders: retention.ms=86400000" in status["message"]
    )
    assert retention(fake_cluster, "orders") == "172800000"


async def test_rollback_after_success_is_approved_by_someone_else(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    member = await prepare("AlterAcls", fake_cluster)
    await harness.start()
    await approved(harness, "change", await draft(harness.kafka, member))
    await harness.kubectl.wait_phase("change", "Succeeded")
    assert sorted(str(b.operation) for b in fake_cluster.acls) == ["Read"]

    review = await harness.kubectl.ask_rollback("change", "dave")
    assert review["phase"] == "AwaitingRollbackApproval", review["message"]
    assert review["rollbackReview"]["requestedBy"] == "dave"
    assert review["rollbackReview"]["risk"] == "HIGH"
    assert "it needs 2 approval(s) from people other than dave" in review["message"]
    assert sorted(str(b.operation) for b in fake_cluster.acls) == ["Read"]

    await harness.kubectl.approve_rollback("change", "dave", "bob")
    refused = await harness.kubectl.wait_for(
        "change",
        lambda s: "dave asked for this rollback and may not approve it" in s["message"],
        "the refusal of the asker's own approval",
    )
    assert refused["phase"] == "AwaitingRollbackApproval"
    assert sorted(str(b.operation) for b in fake_cluster.acls) == ["Read"]

    await harness.kubectl.approve_rollback("change", "bob", "carol")
    status = await harness.kubectl.wait_phase("change", "RolledBack", "RollbackFailed", "Stale")

    assert status["phase"] == "RolledBack", status["message"]
    assert sorted(str(b.operation) for b in fake_cluster.acls) == ["Write"]
    annotations = (await harness.kubectl.get("change"))["metadata"].get("annotations", {})
    assert not any(key.startswith("kcr.dev/rollback") for key in annotations)
    entered = [h for h in status["history"] if h["phase"] == "RollingBack"]
    assert entered[0]["reason"] == "RollbackApproved"
    assert [a["user"] for a in status["rollbackReview"]["approvals"]] == ["bob", "carol"]


async def test_irreversible_change_is_never_silently_rolled_back(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    member = await prepare("IncreasePartitions", fake_cluster)
    await harness.start()
    await approved(harness, "change", await draft(harness.kafka, member))
    await harness.kubectl.wait_phase("change", "Succeeded")

    await harness.kubectl.annotate(
        "change", **{"kcr.dev/rollback": "requested", "kcr.dev/rollback-requested-by": "dave"}
    )
    status = await harness.kubectl.wait_for(
        "change",
        lambda s: any(c["reason"] == "RollbackRefused" for c in s["conditions"]),
        "the rollback refusal",
    )

    assert status["phase"] == "Succeeded"
    assert "nothing can be rolled back" in status["message"]
    assert "partitions added to orders cannot be removed" in status["message"]
    assert len(fake_cluster.topics["orders"].partitions) == 6


async def test_manual_gate_waits_for_continue(harness: Harness, fake_cluster: FakeCluster) -> None:
    member = await prepare("AlterTopicConfig", fake_cluster)
    spec = await draft(harness.kafka, member, gates=HealthGates(manual=True))
    clock = CountingClock()
    await harness.start(clock=clock)
    await approved(harness, "change", spec)

    status = await harness.kubectl.wait_phase("change", "Paused")
    assert "kcr.dev/continue=canary" in status["message"]
    assert retention(fake_cluster, "invoices") == "86400000"
    await harness.kubectl.annotate("change", **{"kcr.dev/continue": "batch-1"})
    # The wrong stage releases nothing: after several decisions (the one the annotation's
    # watch event wakes, then polls of 0.5 s) the request still waits at the canary's gate.
    before = clock.readings
    await eventually(
        lambda: clock.readings >= before + 2 * DECISIONS, "the operator deciding again"
    )
    status = await harness.kubectl.status("change")
    assert status["phase"] == "Paused"
    assert "kcr.dev/continue=canary" in status["message"]
    assert retention(fake_cluster, "invoices") == "86400000"

    await harness.kubectl.annotate("change", **{"kcr.dev/continue": "canary"})
    status = await harness.kubectl.wait_phase("change", "Succeeded")

    assert retention(fake_cluster, "invoices") == "172800000"
    annotations = (await harness.kubectl.get("change"))["metadata"].get("annotations", {})
    assert "kcr.dev/continue" not in annotations


async def test_abort_while_paused_stops_and_lists_what_was_done(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    member = await prepare("AlterTopicConfig", fake_cluster)
    spec = await draft(harness.kafka, member, gates=HealthGates(manual=True))
    await harness.start()
    await approved(harness, "change", spec)
    await harness.kubectl.wait_phase("change", "Paused")

    await harness.kubectl.annotate("change", **{"kcr.dev/abort": "true"})
    status = await harness.kubectl.wait_phase("change", "Failed")

    assert status["conditions"][-1]["reason"] == "Aborted" or any(
        c["reason"] == "Aborted" for c in status["conditions"]
    )
    assert "completed and left in place: on orders: retention.ms=172800000" in status["message"]
    assert retention(fake_cluster, "invoices") == "86400000"


async def test_pause_policy_then_rollback_on_request(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    member = await prepare("AlterTopicConfig", fake_cluster)
    spec = await draft(harness.kafka, member, on_failure=FailurePolicy.PAUSE)
    after_write_to(fake_cluster, "orders", lambda: fake_cluster.set_isr("orders", 0, [0]))
    await harness.start()
    await approved(harness, "change", spec)

    status = await harness.kubectl.wait_phase("change", "Paused")
    assert "UnderReplicatedPartitions: FAILED" in status["message"]
    assert retention(fake_cluster, "orders") == "172800000"

    await harness.kubectl.annotate("change", **{"kcr.dev/rollback": "requested"})
    status = await harness.kubectl.wait_phase("change", "RolledBack")
    assert retention(fake_cluster, "orders") == "86400000"
