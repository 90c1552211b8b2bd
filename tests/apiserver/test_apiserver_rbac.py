"""The least-privilege RBAC of manifests/rbac, as the API server's authorizer answers it."""

import pytest

from .cluster import (
    ALICE,
    BOB,
    DAVE,
    MCP_ACCOUNT,
    NAMESPACE,
    OPERATOR_ACCOUNT,
    SYSTEM_NAMESPACE,
    Cluster,
    account_user,
)

MCP = account_user(MCP_ACCOUNT)
OPERATOR = account_user(OPERATOR_ACCOUNT)


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
def test_the_mcp_server_may_draft_but_never_change(
    cluster: Cluster, verb: str, allowed: bool
) -> None:
    assert cluster.admin.can(MCP, verb, "kafkachangerequests", SYSTEM_NAMESPACE) is allowed


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        (OPERATOR, True),
        (MCP, False),
        (ALICE.name, False),
        (BOB.name, False),
        (DAVE.name, False),
    ],
    ids=["operator", "mcp-server", "requester", "approver", "approver-outside-the-group"],
)
def test_only_the_operator_writes_status(cluster: Cluster, user: str, allowed: bool) -> None:
    can = cluster.admin.can(user, "patch", "kafkachangerequests", NAMESPACE, subresource="status")
    assert can is allowed


def test_a_person_cannot_write_status(cluster: Cluster, name: str) -> None:
    """Status carries the spec hash approvals bind to; only the operator may set it."""
    bob = cluster.as_person(BOB)
    answer = bob.patch_status(NAMESPACE, name, {"phase": "Approved"})
    assert answer.status_code == 403
    assert (
        f'User "{BOB.name}" cannot patch resource "kafkachangerequests/status"'
        in (answer.json()["message"])
    )
