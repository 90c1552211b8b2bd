"""draft_kafka_rebalance: a KafkaRebalance as YAML for a pull request where Cruise Control
runs, with the skew it rests on; kcr itself never writes or annotates one.

The server drafts into the kmock emulator (the Kubernetes sink, as in production), which
serves Strimzi's KafkaRebalance CRD: every request it receives is counted.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import yaml
from mcp import Client
from mcp_servers import Emulated
from mcp_support import NAMESPACE, build, caller, error_text, structured
from tests.strimzi_crds import requests_to, serve_strimzi

from kcr.kafka import Broker
from kcr.kafka.fake import FakeKafka
from kcr.mcp.drafts import KubeDraftSink
from kcr.mcp.kube_client import KubernetesApi, open_kube
from kcr.model.strimzi import StrimziManagement

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

CRUISE_CONTROL = StrimziManagement(
    namespace="kafka", cluster_name="prod-kafka", cruise_control=True
)
REASON = "broker 0 leads most partitions after the last restart"


@pytest_asyncio.fixture
async def kube(emulator: Emulated) -> AsyncIterator[KubernetesApi]:
    serve_strimzi(emulator.kube)
    emulator.kube.emulator.kept_requests = 100_000
    api = open_kube(str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        yield api
    finally:
        await api.close()


async def skewed_kafka() -> FakeKafka:
    """Six partitions on brokers 0-2, every one led by broker 0; broker 3 has just joined."""
    fake = FakeKafka()
    cluster = fake.cluster
    await cluster.create_topic("orders", 6, 3, {})
    for partition in range(6):
        cluster.set_leader("orders", partition, 0)
        cluster.produce("orders", partition, 10)
    cluster.brokers.append(Broker(id=3, host="broker-3.fake", port=9092))
    return fake


async def draft(built: Any, **arguments: Any) -> Any:
    async with Client(built.mcp) as client:
        return await client.call_tool("draft_kafka_rebalance", {"reason": REASON, **arguments})


async def test_a_rebalance_onto_a_new_broker_is_drafted_for_a_pull_request_only(
    emulator: Emulated, kube: KubernetesApi
) -> None:
    built = build(
        await skewed_kafka(), kube=kube, drafts=KubeDraftSink(kube), strimzi=CRUISE_CONTROL
    )
    before = len(requests_to(emulator.kube, "kafkarebalances"))
    result = structured(
        await draft(built, mode="add-brokers", brokers=[3], goals=["ReplicaDistributionGoal"])
    )

    manifest = yaml.safe_load(result["yaml"])
    assert manifest == {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaRebalance",
        "metadata": {
            "name": result["name"],
            "namespace": "kafka",
            "labels": {"strimzi.io/cluster": "prod-kafka"},
        },
        "spec": {"mode": "add-brokers", "brokers": [3], "goals": ["ReplicaDistributionGoal"]},
    }
    assert result["name"].startswith("kcr-add-brokers-")
    assert result["replicasPerBroker"] == {"0": 6, "1": 6, "2": 6, "3": 0}
    assert result["leaderSkew"] == 4.0  # six leaders on broker 0, a mean of 1.5
    [skew] = [e for e in result["evidence"] if e["query"].startswith("partition_skew")]
    assert "broker 0: 6" in skew["observedValue"]
    approval = result["approval"]
    assert "kcr never creates, annotates or approves a KafkaRebalance" in approval
    assert f"kafkarebalance {result['name']} -n kafka strimzi.io/rebalance=approve" in approval
    assert "may recompute the plan at approval time" in approval
    assert "strimzi.io/rebalance=stop stops the rebalance and rolls back the moves in flight" in (
        approval
    )
    assert "may read Stopped before that rollback has finished" in approval
    assert requests_to(emulator.kube, "kafkarebalances")[before:] == []


async def test_the_same_request_drafts_the_same_name() -> None:
    built = build(await skewed_kafka(), strimzi=CRUISE_CONTROL)
    first = structured(await draft(built))
    again = structured(await draft(built))
    other = structured(await draft(built, goals=["RackAwareGoal"]))
    assert first["name"] == again["name"] != other["name"]
    assert yaml.safe_load(first["yaml"])["spec"] == {"mode": "full"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(
            {"mode": "full", "brokers": [1]},
            "brokers: a full rebalance spreads replicas over every broker; name none",
            id="full-with-brokers",
        ),
        pytest.param(
            {"mode": "remove-brokers"},
            "brokers: mode remove-brokers needs the brokers to move replicas onto or off",
            id="remove-without-brokers",
        ),
        pytest.param(
            {"mode": "add-brokers", "brokers": [7]},
            "brokers: 7 not in the cluster (its brokers: 0, 1, 2, 3)",
            id="unknown-broker",
        ),
        pytest.param(
            {"mode": "remove-brokers", "brokers": [2, 3]},
            "removing 2 broker(s) leaves 2, fewer than the largest replication factor (3)",
            id="too-few-brokers-left",
        ),
    ],
)
async def test_a_rebalance_that_cannot_work_is_refused_naming_the_argument(
    arguments: dict[str, Any], message: str
) -> None:
    built = build(await skewed_kafka(), strimzi=CRUISE_CONTROL)
    assert message in error_text(await draft(built, **arguments))


@pytest.mark.parametrize(
    ("strimzi", "who", "message"),
    [
        pytest.param(
            None,
            caller(),
            "does not declare Cruise Control under Strimzi (spec.managedBy.strimzi."
            "cruiseControl: true)",
            id="no-strimzi",
        ),
        pytest.param(
            CRUISE_CONTROL.model_copy(update={"cruise_control": False}),
            caller(),
            "draft replica moves with draft_reassign_partitions",
            id="strimzi-without-cruise-control",
        ),
        pytest.param(
            CRUISE_CONTROL,
            caller("carol", topics=("team-a.",), groups=("team-a.",)),
            "a KafkaRebalance moves replicas of every topic on the cluster",
            id="tenant-scope",
        ),
    ],
)
async def test_only_where_cruise_control_runs_and_for_a_caller_who_sees_every_topic(
    strimzi: StrimziManagement | None, who: Any, message: str
) -> None:
    built = build(await skewed_kafka(), strimzi=strimzi, who=who)
    assert message in error_text(await draft(built))
