"""One flow end to end on the real API server: ``kcr operator`` logged in as its own
ServiceAccount (the RBAC of manifests/rbac/operator.yaml, flags as in its Deployment), a
request drafted by alice, approved by bob with ``kubectl kcr``, run on the broker."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kcr import kinds
from kcr.embedded.processes import Child, Children, kcr_command
from kcr.kafka.connect import open_kafka
from kcr.kinds.create_topic import CreateTopic
from kcr.kubectl.main import cli as kubectl_kcr
from kcr.model import Change, KafkaChangeRequestSpec, RequestedBy, Rollout

from .cluster import ALICE, BOB, NAMESPACE, OPERATOR_ACCOUNT, Cluster
from .kube import Kube, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

PHASE_SECONDS = 120.0


@pytest.fixture
def operator(cluster: Cluster, tmp_path: Path) -> Iterator[Child]:
    kubeconfig = cluster.kubeconfig("kcr-operator", cluster.account_token(OPERATOR_ACCOUNT))
    children = Children(tmp_path)
    try:
        yield children.launch(
            "kcr-operator",
            kcr_command(
                "operator",
                "--kubeconfig",
                str(kubeconfig),
                "--all-namespaces",
                "--standalone",
                "--metrics-port=0",
                "--health-port=0",
                "--log-format=json",
            ),
        )
    finally:
        children.stop_all()


def drafted(kafka_bootstrap: str, topic: str, cluster_name: str) -> KafkaChangeRequestSpec:
    """alice's request, with the live state a draft captures (as the MCP server does)."""
    change = Change.of(CreateTopic(topic=topic, partitions=2, replication_factor=1))

    async def observe() -> Any:
        port = open_kafka(kafka_bootstrap)
        try:
            return await kinds.take_snapshot(port, change)
        finally:
            await port.close()

    return KafkaChangeRequestSpec(
        cluster=cluster_name,
        change=change,
        requested_by=RequestedBy(principal=ALICE.name, channel="kubectl"),
        reason="a topic for the new orders service",
        observed=asyncio.run(observe()),
        rollout=Rollout(bake_seconds=0),
    )


def wait_phase(kube: Kube, name: str, phase: str, operator: Child) -> dict[str, Any]:
    status: dict[str, Any] = {}

    def reached() -> str | None:
        nonlocal status
        if not operator.running:
            raise operator.exited()
        status = kube.get_request(NAMESPACE, name).get("status") or {}
        return None if status.get("phase") == phase else f"phase {status.get('phase')}"

    try:
        wait_until(reached, f"{name} in {phase}", timeout=PHASE_SECONDS)
    except AssertionError as error:
        raise AssertionError(
            f"{error}; status {status}; operator log:\n{operator.log_tail()}"
        ) from error
    return status


def partition_count(kafka_bootstrap: str, topic: str) -> int:
    async def describe() -> int:
        port = open_kafka(kafka_bootstrap)
        try:
            (info,) = await port.describe_topics([topic])
        finally:
            await port.close()
        return int(info.partition_count)

    return asyncio.run(describe())


def test_an_approved_request_runs_under_the_operator_account(
    cluster: Cluster, operator: Child, kafka_bootstrap: str, unique: str, name: str
) -> None:
    admin = cluster.admin
    kafka_cluster = {
        "apiVersion": "kcr.dev/v1alpha1",
        "kind": "KafkaCluster",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"bootstrapServers": kafka_bootstrap},
    }
    assert admin.create(kafka_cluster).status_code == 201
    topic = f"{unique}-orders"
    spec = drafted(kafka_bootstrap, topic, name)
    request = {
        "apiVersion": "kcr.dev/v1alpha1",
        "kind": "KafkaChangeRequest",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True),
    }
    alice = cluster.as_person(ALICE)
    created = alice.create(request)
    assert created.status_code == 201, created.text[:500]

    wait_phase(alice, name, "AwaitingApproval", operator)
    kubeconfig = cluster.kubeconfig(BOB.name, BOB.token)
    approved = CliRunner().invoke(
        kubectl_kcr, ["--kubeconfig", str(kubeconfig), "-n", NAMESPACE, "approve", name]
    )
    assert approved.exit_code == 0, approved.output
    status = wait_phase(alice, name, "Succeeded", operator)

    assert status["approvals"][0]["user"] == BOB.name
    assert partition_count(kafka_bootstrap, topic) == 2
    events = admin.http.get(
        f"/api/v1/namespaces/{NAMESPACE}/events",
        params={"fieldSelector": f"involvedObject.name={name}"},
    )
    assert events.status_code == 200
    reasons = {event["reason"] for event in events.json()["items"]}
    assert {"Validated", "Approved", "Succeeded"} <= reasons
    # The operator's RBAC sufficed: the API server refused it nothing on the way.
    assert "Forbidden" not in operator.log_path.read_text()
