"""The approval rules and the RBAC of manifests/, enforced by a real API server."""

import json
from typing import Any

import pytest

from kcr.kinds.create_topic import CreateTopic

from .cluster import ALICE, BOB, CAROL, DAVE, MCP, NAMESPACE, OPERATOR, Cluster, Person
from .drafts import document

pytestmark = pytest.mark.e2e


REQUESTS = "kafkachangerequests.kcr.dev"


def topic_request(name: str, requester: Person = ALICE, channel: str = "kubectl") -> dict[str, Any]:
    member = CreateTopic(topic=f"e2e.{name}", partitions=1, replication_factor=1)
    return document(name, member, requester, channel=channel)


def test_a_person_requests_as_themselves(cluster: Cluster, name: str) -> None:
    created = cluster.create(topic_request(name), ALICE)
    try:
        assert created.returncode == 0, created.stderr
    finally:
        cluster.delete(name)


def test_a_person_cannot_request_as_someone_else(cluster: Cluster, name: str) -> None:
    created = cluster.create(topic_request(name, requester=CAROL), ALICE)
    assert created.returncode != 0
    assert "ValidatingAdmissionPolicy 'kcr-approvals'" in created.stderr
    assert f"must be the creating user {ALICE.username}" in created.stderr


def test_a_request_is_created_without_approvals(cluster: Cluster, name: str) -> None:
    request = topic_request(name)
    request["metadata"]["annotations"] = {"kcr.dev/approved-by": BOB.username}
    created = cluster.create(request, ALICE)
    assert created.returncode != 0
    assert "each approver adds their own approval" in created.stderr


def test_the_mcp_server_requests_for_its_caller(cluster: Cluster, name: str) -> None:
    draft = json.dumps(topic_request(name, requester=CAROL, channel="mcp"))
    as_mcp = cluster.kubectl("create", "-f", "-", "--as", MCP.username, stdin=draft)
    try:
        assert as_mcp.returncode == 0, as_mcp.stderr
    finally:
        cluster.delete(name)


def test_approvals_name_the_approver_who_is_in_the_group_and_not_the_requester(
    cluster: Cluster, name: str
) -> None:
    assert cluster.create(topic_request(name), ALICE).returncode == 0
    try:
        cluster.wait_phase(name, "AwaitingApproval")
        by_dave = cluster.kubectl_kcr(DAVE, "approve", name)
        assert by_dave.exit_code == 1
        assert "is not in the approvers group" in by_dave.output
        forged = cluster.kubectl(
            "annotate",
            "kafkachangerequest",
            name,
            "-n",
            NAMESPACE,
            f"kcr.dev/approved-by={CAROL.username}",
            "kcr.dev/approved-spec-hash=" + "0" * 64,
            person=BOB,
        )
        assert forged.returncode != 0
        assert "may only gain the requesting user" in forged.stderr
        by_alice = cluster.kubectl_kcr(ALICE, "approve", name)
        assert by_alice.exit_code == 1
        by_bob = cluster.kubectl_kcr(BOB, "approve", name)
        assert by_bob.exit_code == 0, by_bob.output
        annotations = cluster.request(name)["metadata"]["annotations"]
        assert annotations["kcr.dev/approved-by"] == BOB.username
    finally:
        cluster.delete(name)


@pytest.mark.parametrize(
    ("verb", "allowed"),
    [
        ("create", True),
        ("get", True),
        ("list", True),
        ("watch", True),
        ("update", False),
        ("patch", False),
        ("delete", False),
    ],
)
def test_mcp_server_may_draft_but_never_change(cluster: Cluster, verb: str, allowed: bool) -> None:
    assert cluster.can(MCP, verb, REQUESTS) is allowed
    assert not cluster.can(MCP, "patch", REQUESTS, subresource="status")


def test_only_the_operator_writes_status(cluster: Cluster) -> None:
    assert cluster.can(OPERATOR, "patch", REQUESTS, subresource="status")
    for person in (ALICE, BOB, CAROL, DAVE, MCP):
        assert not cluster.can(person, "patch", REQUESTS, subresource="status"), person
