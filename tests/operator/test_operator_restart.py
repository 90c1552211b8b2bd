"""A restarted operator resumes at the first unfinished step and repeats no completed write."""

import asyncio

import pytest
from kafka_setup import draft, topic
from operator_harness import Harness

from kcr.kafka.fake import FakeCluster
from kcr.kinds.alter_topic_config import AlterTopicConfig

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

TOPICS = ["t-a", "t-b", "t-c"]


def steps(status: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {s["id"]: s for stage in status["plan"]["stages"] for s in stage["steps"]}


async def test_restart_mid_execution_repeats_no_write(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    for name in TOPICS:
        await topic(fake_cluster, name, retention_ms="86400000")
    member = AlterTopicConfig(topics=TOPICS, set={"retention.ms": "172800000"})
    spec = await draft(harness.kafka, member, batch_size=1)
    writes: list[str] = []
    original = fake_cluster.alter_topic_config
    crash = asyncio.Event()

    async def alter(name: str, set_: dict[str, str], delete: list[str]) -> None:
        await original(name, set_, delete)
        writes.append(name)
        if name == "t-b" and not crash.is_set():
            crash.set()  # the process dies after the write, before status says so
            await asyncio.sleep(3600)

    fake_cluster.alter_topic_config = alter  # type: ignore[method-assign]

    first = await harness.start()
    await harness.kubectl.create("change", spec)
    await harness.kubectl.wait_phase("change", "AwaitingApproval")
    await harness.kubectl.approve("change", "bob")
    before = await harness.kubectl.wait_for(
        "change",
        lambda s: (
            steps(s).get("alter-config-t-b", {}).get("state") == "Running" and len(writes) == 2
        ),
        "the write to t-b",
    )
    await first.stop()
    assert writes == ["t-a", "t-b"]
    assert steps(before)["alter-config-t-a"]["state"] == "Succeeded"

    await harness.start()
    status = await harness.kubectl.wait_phase("change", "Succeeded", "RolledBack", "Failed")

    assert status["phase"] == "Succeeded", status["message"]
    assert writes == ["t-a", "t-b", "t-c"]  # t-b was not written again, nor was t-a
    after = steps(status)
    assert after["alter-config-t-a"]["startedAt"] == steps(before)["alter-config-t-a"]["startedAt"]
    assert after["alter-config-t-b"]["result"].startswith("AlreadyApplied")
    assert after["alter-config-t-c"]["result"].startswith("Applied")
    assert {fake_cluster.topics[n].overrides["retention.ms"] for n in TOPICS} == {"172800000"}
