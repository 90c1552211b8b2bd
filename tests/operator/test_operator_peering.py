"""Two replicas with kopf peering: only the one with the highest priority acts."""

import asyncio

import pytest
from kafka_setup import draft, prepare
from operator_harness import NAMESPACE, Harness, fast_config

from kcr.kafka.fake import FakeCluster

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

PEERINGS = f"/apis/kopf.dev/v1/namespaces/{NAMESPACE}/kopfpeerings"


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
    leader = await harness.start(fast_config(peering="kcr", priority=20))
    standby = await harness.start(fast_config(peering="kcr", priority=10))
    # Both have announced themselves, so each has seen the other: the standby is frozen.
    for _ in range(250):
        status = (await harness.kubectl.client.get(f"{PEERINGS}/kcr")).json().get("status") or {}
        if len(status) == 2:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)  # the peering event reaches the standby's watch stream

    member = await prepare("CreateTopic", fake_cluster)
    await harness.kubectl.create("change", await draft(harness.kafka, member))
    await harness.kubectl.wait_phase("change", "AwaitingApproval")
    await harness.kubectl.approve("change", "bob")
    await harness.kubectl.wait_phase("change", "Succeeded")

    peers = (await harness.kubectl.client.get(f"{PEERINGS}/kcr")).json()["status"]
    assert sorted(p["priority"] for p in peers.values()) == [10, 20]
    for _ in range(100):  # counted right after the status write, in the leader's thread
        if transitions(leader) >= 4:
            break
        await asyncio.sleep(0.02)
    assert (transitions(leader), transitions(standby)) == (4, 0)
    assert fake_cluster.calls["create_topic"] == 1
