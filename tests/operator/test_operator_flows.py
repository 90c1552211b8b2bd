"""End to end through kopf and the emulator: every change kind, approvals, expiry, stale."""

import pytest
from kafka_setup import REQUESTER, draft, prepare
from operator_harness import Harness, ShiftedClock

from kcr.kafka.fake import FakeCluster
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

KINDS = [
    "CreateTopic",
    "IncreasePartitions",
    "AlterTopicConfig",
    "ResetConsumerGroupOffsets",
    "AlterAcls",
    "DeleteTopic",
]


def kafka_effect(kind: str, cluster: FakeCluster) -> object:
    """What each change leaves in Kafka, as a comparable value."""
    if kind == "CreateTopic":
        return len(cluster.topics["payments"].partitions)
    if kind == "IncreasePartitions":
        return len(cluster.topics["orders"].partitions)
    if kind == "AlterTopicConfig":
        return {n: cluster.topics[n].overrides["retention.ms"] for n in ("orders", "invoices")}
    if kind == "ResetConsumerGroupOffsets":
        return sorted(set(cluster.groups["billing"].committed.values()))
    if kind == "AlterAcls":
        return sorted(str(b.operation) for b in cluster.acls)
    return "orders" in cluster.topics


EXPECTED = {
    "CreateTopic": 3,
    "IncreasePartitions": 6,
    "AlterTopicConfig": {"orders": "172800000", "invoices": "172800000"},
    "ResetConsumerGroupOffsets": [0],
    "AlterAcls": ["Read"],
    "DeleteTopic": False,
}


@pytest.mark.parametrize("kind", KINDS)
async def test_every_change_kind_runs_to_success(
    harness: Harness, fake_cluster: FakeCluster, kind: str
) -> None:
    member = await prepare(kind, fake_cluster)
    spec = await draft(harness.kafka, member)
    await harness.start()
    kubectl = harness.kubectl
    await kubectl.create("change", spec)
    review = await kubectl.wait_phase("change", "AwaitingApproval")
    assert review["changeType"] == kind
    assert review["plan"]["hash"]
    assert review["rollbackPlan"] is not None

    await kubectl.approve("change", "bob", "carol")
    status = await kubectl.wait_phase("change", "Succeeded", "Failed", "RolledBack", "Stale")

    assert status["phase"] == "Succeeded", status["message"]
    assert kafka_effect(kind, fake_cluster) == EXPECTED[kind]
    steps = [s for stage in status["plan"]["stages"] for s in stage["steps"]]
    assert {s["state"] for s in steps} == {"Succeeded"}
    assert all(s["startedAt"] and s["finishedAt"] and s["result"] for s in steps)
    assert {a["planHash"] for a in status["approvals"]} == {status["plan"]["hash"]}
    assert status["approvedBy"] == "bob, carol"
    assert status["snapshot"]["capturedAt"]
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"], ready["observedGeneration"]) == (
        "True",
        "Succeeded",
        1,
    )
    await kubectl.events_with(
        "change", "Validated", "Approved", "ExecutionStarted", "StepSucceeded", "Succeeded"
    )


async def test_invalid_request_names_field_and_rule(harness: Harness) -> None:
    await harness.start()
    spec = {
        "cluster": "prod",
        "change": {
            "type": "CreateTopic",
            "createTopic": {"topic": "payments", "partitions": 0, "replicationFactor": 3},
        },
        "requestedBy": {"principal": REQUESTER, "channel": "kubectl"},
        "reason": "bad partitions",
    }
    await harness.kubectl.create("bad", spec)
    status = await harness.kubectl.wait_phase("bad", "Invalid")
    assert "spec.change.createTopic.partitions: must be at least 1, got 0" in status["message"]
    events = await harness.kubectl.events_with("bad", "ValidationFailed")
    assert [(e["type"], e["reason"]) for e in events] == [("Warning", "ValidationFailed")]


async def test_policy_violation_is_invalid(harness: Harness, fake_cluster: FakeCluster) -> None:
    await harness.start()
    member = CreateTopic(topic="huge", partitions=2000, replication_factor=3)
    await harness.kubectl.create("huge", await draft(harness.kafka, member))
    status = await harness.kubectl.wait_phase("huge", "Invalid")
    assert "above this cluster's limit of 1000 partitions" in status["message"]


REFUSALS = [
    pytest.param(
        {"kcr.dev/approved-by": "bob", "kcr.dev/approved-spec-hash": "0" * 64},
        "ApprovalRefused",
        "does not match status.specHash",
        id="wrong-spec-hash",
    ),
    pytest.param(
        {"kcr.dev/approved-by": "alice"},
        "ApprovalRefused",
        "alice requested this change and may not approve it",
        id="requester-approves",
    ),
    pytest.param(
        {"kcr.dev/approved-by": "bob"},
        "InsufficientApprovals",
        "1 of 2 required approvals (bob)",
        id="too-few-approvers",
    ),
]


@pytest.mark.parametrize(("annotations", "reason", "says"), REFUSALS)
async def test_refused_approvals_are_explained(
    harness: Harness,
    fake_cluster: FakeCluster,
    annotations: dict[str, str],
    reason: str,
    says: str,
) -> None:
    spec = await draft(harness.kafka, await prepare("IncreasePartitions", fake_cluster))
    await harness.start()
    kubectl = harness.kubectl
    await kubectl.create("change", spec)
    review = await kubectl.wait_phase("change", "AwaitingApproval")
    annotations.setdefault("kcr.dev/approved-spec-hash", review["specHash"])
    await kubectl.annotate("change", **annotations)

    status = await kubectl.wait_for(
        "change",
        lambda s: any(c["type"] == "Approved" and c["reason"] == reason for c in s["conditions"]),
        f"condition Approved={reason}",
    )
    assert status["phase"] == "AwaitingApproval"
    assert says in status["message"]
    events = await kubectl.events_with("change", reason)
    refused = [e for e in events if e["reason"] == reason]
    assert len(refused) == 1
    assert refused[0]["type"] == ("Normal" if reason == "InsufficientApprovals" else "Warning")
    assert says in refused[0]["message"]
    assert len(fake_cluster.topics["orders"].partitions) == 3


async def test_rejected_request_ends_without_writes(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    member = await prepare("AlterTopicConfig", fake_cluster)
    await harness.start()
    await harness.kubectl.create("change", await draft(harness.kafka, member))
    await harness.kubectl.wait_phase("change", "AwaitingApproval")
    await harness.kubectl.annotate("change", **{"kcr.dev/rejected-by": "dave"})
    status = await harness.kubectl.wait_phase("change", "Rejected")
    assert status["message"] == "rejected by dave; nothing was changed"
    assert fake_cluster.calls["alter_topic_config"] == 0


async def test_unapproved_request_expires(harness: Harness, fake_cluster: FakeCluster) -> None:
    member = await prepare("CreateTopic", fake_cluster)
    spec = (await draft(harness.kafka, member)).model_copy(update={"approval_ttl_seconds": 60})
    clock = ShiftedClock()
    await harness.start(clock=clock)
    await harness.kubectl.create("change", spec)
    await harness.kubectl.wait_phase("change", "AwaitingApproval")
    clock.shift(seconds=61)
    status = await harness.kubectl.wait_phase("change", "Expired")
    assert "not approved within approvalTtlSeconds=60" in status["message"]
    assert "payments" not in fake_cluster.topics


async def test_stale_plan_writes_nothing(harness: Harness, fake_cluster: FakeCluster) -> None:
    member = await prepare("AlterTopicConfig", fake_cluster)
    spec = await draft(harness.kafka, member)
    await harness.start()
    await harness.kubectl.create("change", spec)
    review = await harness.kubectl.wait_phase("change", "AwaitingApproval")
    # Someone else changes the retention after the draft: the rollback shown is now wrong.
    await fake_cluster.alter_topic_config("invoices", {"retention.ms": "3600000"}, [])
    writes = fake_cluster.calls["alter_topic_config"]
    await harness.kubectl.approve("change", "bob")
    status = await harness.kubectl.wait_phase("change", "Stale")
    assert "topic invoices: retention.ms was 86400000 (TopicOverride)" in status["message"]
    assert "is 3600000 (TopicOverride) now" in status["message"]
    assert fake_cluster.calls["alter_topic_config"] == writes
    assert status["specHash"] == review["specHash"]
    assert status.get("snapshot") is None


async def test_reset_waits_for_an_empty_group(harness: Harness, fake_cluster: FakeCluster) -> None:
    member = await prepare("ResetConsumerGroupOffsets", fake_cluster)
    assert isinstance(member, ResetConsumerGroupOffsets)
    fake_cluster.join("billing", "consumer-1")
    await harness.start()
    await harness.kubectl.create("change", await draft(harness.kafka, member))
    await harness.kubectl.wait_phase("change", "AwaitingApproval")
    await harness.kubectl.approve("change", "bob", "carol")
    status = await harness.kubectl.wait_for(
        "change",
        lambda s: "waiting for an empty group" in s.get("message", ""),
        "a step waiting for the group",
    )
    assert status["phase"] == "Executing"
    fake_cluster.leave("billing", "consumer-1")
    status = await harness.kubectl.wait_phase("change", "Succeeded")
    assert set(fake_cluster.groups["billing"].committed.values()) == {0}
