"""Two replicas with kopf peering: only the one with the highest priority acts."""

import logging
from collections.abc import Iterator

import pytest
from kafka_setup import draft, prepare
from operator_harness import NAMESPACE, Harness, fast_config
from waiting import eventually

from kcr.kafka.fake import FakeCluster

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

PEERINGS = f"/apis/kopf.dev/v1/namespaces/{NAMESPACE}/kopfpeerings"
PEERING_LOGGER = "kopf._core.engines.peering"


class Remembered(logging.Handler):
    """The messages of one logger, from every thread: kopf says when a replica pauses."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def peering_log() -> Iterator[Remembered]:
    handler = Remembered()
    logger = logging.getLogger(PEERING_LOGGER)
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def transitions(operator: object) -> float:
    runtime = operator.runtime  # type: ignore[attr-defined]
    return sum(
        sample.value
        for family in runtime.metrics.registry.collect()
        if family.name == "kcr_transitions"
        for sample in family.samples
        if sample.name.endswith("_total")
    )


async def test_only_the_leader_acts(
    harness: Harness, fake_cluster: FakeCluster, peering_log: Remembered
) -> None:
    peering = {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": "kcr"}}
    (await harness.kubectl.client.post(PEERINGS, json=peering)).raise_for_status()
    leader = await harness.start(fast_config(peering="kcr", priority=20))
    standby = await harness.start(fast_config(peering="kcr", priority=10))
    await eventually(
        lambda: any("Pausing operations in favour of" in m for m in peering_log.messages),
        "the standby pausing in favour of the leader",
    )

    member = await prepare("CreateTopic", fake_cluster)
    await harness.kubectl.create("change", await draft(harness.kafka, member))
    await harness.kubectl.wait_phase("change", "AwaitingApproval")
    await harness.kubectl.approve("change", "bob")
    await harness.kubectl.wait_phase("change", "Succeeded")

    peers = (await harness.kubectl.client.get(f"{PEERINGS}/kcr")).json()["status"]
    assert sorted(p["priority"] for p in peers.values()) == [10, 20]
    # Counted right after the status write, in the leader's thread.
    await eventually(lambda: transitions(leader) >= 4, "the leader counting its transitions")
    assert (transitions(leader), transitions(standby)) == (4, 0)
    assert fake_cluster.calls["create_topic"] == 1
