"""Offset resets that name a Deployment: scale to zero, wait for an empty group, reset,
scale back, and judge the group's progress once its consumers run again."""

import asyncio
import contextlib

import pytest
from kafka_setup import consumed, draft, scaled_reset, topic
from operator_harness import Harness
from waiting import eventually

from kcr.kafka.fake import FakeCluster
from kcr.model import ConsumerProgressGate, HealthGates

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]


async def consumers_follow_replicas(
    harness: Harness, cluster: FakeCluster, seen: list[int]
) -> None:
    """Stands in for the Deployment's pods: members join and leave as replicas change, and
    while they run they read what arrives (a record a partition each tick) and commit."""
    for _ in range(4000):
        replicas = await harness.kubectl.deployment_replicas("apps", "billing")
        if not seen or seen[-1] != replicas:
            seen.append(replicas)
            members = set(cluster.groups["billing"].members)
            for member in members:
                cluster.leave("billing", member)
            for index in range(replicas):
                cluster.join("billing", f"billing-{index}")
        group = cluster.groups["billing"]
        for partition in range(3):
            cluster.produce("orders", partition)
            if replicas:
                offset = group.committed.get(("orders", partition), 0)
                log_end = cluster.topics["orders"].partitions[partition].log_end
                cluster.commit("billing", {("orders", partition): min(offset + 2, log_end)})
        await asyncio.sleep(0.02)


async def test_reset_scales_the_consumers_down_and_back(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    await topic(fake_cluster, "orders")
    await consumed(fake_cluster, "billing", "orders")
    await harness.kubectl.create_deployment(
        "apps", "billing", replicas=2, labels={"kcr.dev/consumer-group": "billing"}
    )
    seen: list[int] = []
    pods = asyncio.create_task(consumers_follow_replicas(harness, fake_cluster, seen))
    try:
        await eventually(
            lambda: len(fake_cluster.groups["billing"].members) == 2, "both consumers joined"
        )
        gates = HealthGates(consumer_progress=ConsumerProgressGate(baseline_seconds=5))
        spec = await draft(
            harness.kafka, scaled_reset("apps", "billing"), bake_seconds=5, gates=gates
        )
        await harness.start()
        await harness.kubectl.create("reset", spec)
        review = await harness.kubectl.wait_phase("reset", "AwaitingApproval")
        assert [s["name"] for s in review["plan"]["stages"]] == ["quiesce", "apply", "resume"]
        await harness.kubectl.approve("reset", "bob", "carol")
        status = await harness.kubectl.wait_phase(
            "reset", "Succeeded", "RolledBack", "Failed", timeout=60
        )
    finally:
        pods.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pods

    assert status["phase"] == "Succeeded", status["message"]
    assert seen == [2, 0, 2]
    assert status["snapshot"]["deployments"] == [
        {"namespace": "apps", "name": "billing", "replicas": 2}
    ]
    quiesce, apply, resume = status["plan"]["stages"]
    assert (quiesce["progress"], apply["progress"]) == ([], []), "stopped on purpose"
    (billing,) = resume["progress"]
    assert (billing["group"], billing["verdict"]) == ("billing", "Passed"), billing["message"]
    assert billing["baseline"]["consumed"] > 0
    assert billing["bake"]["consumed"] > 0
    assert "ConsumerProgress: ok (billing read " in resume["gateResult"]
    undo = [s["description"] for s in status["rollbackPlan"]["steps"]]
    assert undo == [
        "scale deployment apps/billing to 0 replicas",
        "reset offsets of group billing on orders to explicit offsets for 3 partitions",
        "scale deployment apps/billing to the replicas it had before",
    ]


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        pytest.param(
            {"kcr.dev/consumer-group": "audit"},
            "Deployment apps/billing consumes group audit, not billing",
            id="another-groups-consumer",
        ),
        pytest.param(
            {},
            "Deployment apps/billing is not labelled as a consumer of group billing",
            id="unlabelled",
        ),
        pytest.param(None, "Deployment apps/billing was not found", id="missing"),
    ],
)
async def test_a_reset_that_would_scale_another_workload_is_invalid(
    harness: Harness, fake_cluster: FakeCluster, labels: dict[str, str] | None, problem: str
) -> None:
    await topic(fake_cluster, "orders")
    await consumed(fake_cluster, "billing", "orders")
    if labels is not None:
        await harness.kubectl.create_deployment("apps", "billing", replicas=2, labels=labels)
    spec = await draft(harness.kafka, scaled_reset("apps", "billing"))
    await harness.start()
    await harness.kubectl.create("reset", spec)
    status = await harness.kubectl.wait_phase("reset", "Invalid", "AwaitingApproval")
    assert status["phase"] == "Invalid"
    assert "spec.change.resetConsumerGroupOffsets.scaleDeployment: " + problem in status["message"]
    assert (
        "may only scale a Deployment labelled kcr.dev/consumer-group=billing" in status["message"]
    )
