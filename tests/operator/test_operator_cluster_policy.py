"""Through kopf and the emulator: a KafkaCluster edited after approval voids the approvals."""

from datetime import UTC, datetime, timedelta

import pytest
from kafka_setup import draft, prepare
from operator_harness import CLUSTER_PATH, MERGE, Harness

from kcr.kafka.fake import FakeCluster

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]


async def test_an_approved_change_goes_back_when_its_cluster_policy_changes(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    kubectl = harness.kubectl
    # a change window that is closed now keeps the approved request from starting
    later = (datetime.now(UTC) + timedelta(days=3)).strftime("%a")
    window = {"days": [later], "start": "01:00", "end": "02:00"}
    closed = await kubectl.client.patch(
        f"{CLUSTER_PATH}/prod",
        json={"spec": {"policy": {"changeWindows": [window]}}},
        headers=MERGE,
    )
    closed.raise_for_status()
    spec = await draft(harness.kafka, await prepare("DeleteTopic", fake_cluster))
    await harness.start()
    await kubectl.create("delete-orders", spec)
    await kubectl.wait_phase("delete-orders", "AwaitingApproval")
    await kubectl.approve("delete-orders", "bob", "carol")
    await kubectl.wait_for(
        "delete-orders",
        lambda s: s.get("phase") == "Approved" and "waiting" in s.get("message", ""),
        "approved, waiting for the change window",
    )

    loosened = {"defaultGates": {"noOfflinePartitions": False}, "changeWindows": [window]}
    edited = await kubectl.client.patch(
        f"{CLUSTER_PATH}/prod", json={"spec": {"policy": loosened}}, headers=MERGE
    )
    edited.raise_for_status()
    status = await kubectl.wait_phase("delete-orders", "AwaitingApproval")
    assert "KafkaCluster prod changed after review (spec.policy.defaultGates)" in status["message"]
    condition = next(c for c in status["conditions"] if c["type"] == "Approved")
    assert (condition["status"], condition["reason"]) == ("False", "ClusterPolicyChanged")
    assert status["approvals"] == []
    annotations = (await kubectl.get("delete-orders"))["metadata"].get("annotations", {})
    assert "kcr.dev/approved-by" not in annotations
    assert "orders" in fake_cluster.topics, "nothing was written"
