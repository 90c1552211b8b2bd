"""One active change per Kafka resource: a second request on the same topic waits."""

import pytest
from kafka_setup import draft, topic
from operator_harness import Harness

from kcr.kafka.fake import FakeCluster
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.model import HealthGates

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]


async def test_two_requests_on_one_topic_run_one_after_the_other(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    await topic(fake_cluster, "orders", retention_ms="86400000")
    await topic(fake_cluster, "invoices", retention_ms="86400000")
    first = AlterTopicConfig(topics=["orders", "invoices"], set={"retention.ms": "172800000"})
    second = AlterTopicConfig(topics=["orders"], set={"flush.ms": "3600000"})
    kubectl = harness.kubectl
    await harness.start()

    await kubectl.create("first", await draft(harness.kafka, first, gates=HealthGates(manual=True)))
    await kubectl.create("second", await draft(harness.kafka, second))
    await kubectl.wait_phase("first", "AwaitingApproval")
    await kubectl.wait_phase("second", "AwaitingApproval")
    await kubectl.approve("first", "bob")
    await kubectl.wait_phase("first", "Paused")  # holds topic orders between its stages
    await kubectl.approve("second", "bob")

    waiting = await kubectl.wait_for(
        "second",
        lambda s: "waiting for team-a/first" in s.get("message", ""),
        "the blocked message",
    )
    assert waiting["phase"] == "Approved"
    assert "team-a/first (Paused) which changes topic orders" in waiting["message"]
    assert any(c["reason"] == "BlockedByActiveChange" for c in waiting["conditions"])
    assert "flush.ms" not in fake_cluster.topics["orders"].overrides

    await kubectl.annotate("first", **{"kcr.dev/continue": "canary"})
    await kubectl.wait_phase("first", "Succeeded")
    done = await kubectl.wait_phase("second", "Succeeded")

    first_done = (await kubectl.status("first"))["history"][-1]["at"]
    second_started = next(h["at"] for h in done["history"] if h["phase"] == "Executing")
    assert second_started >= first_done
    assert fake_cluster.topics["orders"].overrides == {
        "retention.ms": "172800000",
        "flush.ms": "3600000",
    }


async def test_requests_on_different_topics_run_together(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    await topic(fake_cluster, "orders", retention_ms="86400000")
    await topic(fake_cluster, "invoices", retention_ms="86400000")
    kubectl = harness.kubectl
    await harness.start()
    for name, target in (("one", "orders"), ("two", "invoices")):
        member = AlterTopicConfig(topics=[target], set={"flush.ms": "3600000"})
        await kubectl.create(name, await draft(harness.kafka, member))
        await kubectl.wait_phase(name, "AwaitingApproval")
        await kubectl.approve(name, "bob")
    for name in ("one", "two"):
        status = await kubectl.wait_phase(name, "Succeeded")
        assert not any(c["reason"] == "BlockedByActiveChange" for c in status["conditions"])
