"""Two replicas with kopf peering: only the one with the highest priority acts."""

import pytest
from kafka_setup import draft, prepare
from operator_harness import NAMESPACE, Harness, fast_config
from waiting import eventually

from kcr.kafka.fake import FakeCluster

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

PEERINGS = f"/apis/kopf.dev/v1/namespaces/{NAMESPACE}/kopfpeerings"


async def announced(harness: Harness) -> list[int]:
    """The priorities of the replicas that have announced themselves on the peering object."""
    body = (await harness.kubectl.client.get(f"{PEERINGS}/kcr")).json()
    return sorted(peer["priority"] for peer in (body.get("status") or {}).values())


async def announced_are(harness: Harness, priorities: list[int]) -> bool:
    return await announced(harness) == priorities


def transitions(operator: object) -> float:
    runtime = operator.runtime  # type: ignore[attr-defined]
    return sum(
        sample.value
        for family in runtime.metrics.registry.collect()
        if family.name == "kcr_transitions"
        for sample in family.samples
        if sample.name.endswith("_total")
    )


async def test_only_the_leader_acts(harness: Harness, fake_cluster: FakeCluster) -> None:
    peering = {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": "kcr"}}
    (await harness.kubectl.client.post(PEERINGS, json=peering)).raise_for_status()
    # A replica starts paused and resumes only when the peering object names no replica of
    # a higher priority: once the leader has announced itself, the standby never resumes.
    leader = await harness.start(fast_config(peering="kcr", priority=20))
    await eventually(lambda: announced_are(harness, [20]), "the leader announcing itself")
    standby = await harness.start(fast_config(peering="kcr", priority=10))
    await eventually(lambda: announced_are(harness, [10, 20]), "the standby announcing itself")

    member = await prepare("CreateTopic", fake_cluster)
    await harness.kubectl.create("change", await draft(harness.kafka, member))
    await harness.kubectl.wait_phase("change", "AwaitingApproval")
    await harness.kubectl.approve("change", "bob")
    await harness.kubectl.wait_phase("change", "Succeeded")

    assert await announced(harness) == [10, 20]
    # Counted right after the status write, in the leader's thread.
    await eventually(lambda: transitions(leader) >= 4, "the leader counting its transitions")
    assert (transitions(leader), transitions(standby)) == (4, 0)
    assert fake_cluster.calls["create_topic"] == 1
