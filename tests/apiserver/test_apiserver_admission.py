"""Who may approve, decided by the API server itself: the kcr-approvals policy and RBAC.

Each refusal is the API server's answer to a real user's request (a static token, or a
ServiceAccount token from the TokenRequest API), and the request is read back afterwards
to show the refused approval left no trace.
"""

from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from kcr.kubectl.main import cli as kubectl_kcr
from kcr.model import KafkaChangeRequestSpec
from kcr.plan.hashing import spec_hash

from .cluster import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    MCP_ACCOUNT,
    NAMESPACE,
    OPERATOR_ACCOUNT,
    POLICY,
    SYSTEM_NAMESPACE,
    Cluster,
    account_user,
    change_request,
)
from .kube import refusal
from .server import Person

APPROVED_BY = "kcr.dev/approved-by"
APPROVED_SPEC_HASH = "kcr.dev/approved-spec-hash"


def awaiting_approval(cluster: Cluster, name: str) -> str:
    """alice drafts a request as herself; the operator's account marks it ready for review.

    Returns the spec hash an approval must carry.
    """
    created = cluster.as_person(ALICE).create(change_request(name, ALICE.name))
    assert created.status_code == 201, created.text[:500]
    spec = KafkaChangeRequestSpec.model_validate(created.json()["spec"])
    digest = spec_hash(spec)
    operator = cluster.as_account(OPERATOR_ACCOUNT)
    written = operator.patch_status(
        NAMESPACE, name, {"phase": "AwaitingApproval", "specHash": digest}
    )
    assert written.status_code == 200, written.text[:500]
    return digest


@dataclass(frozen=True)
class Refused:
    id: str
    person: Person
    approved_by: str
    message: str


REFUSED = [
    Refused(
        "the-requester-approves-her-own-change",
        ALICE,
        ALICE.name,
        f"{ALICE.name} requested this change and may not approve it",
    ),
    Refused(
        "an-approver-outside-the-group",
        DAVE,
        DAVE.name,
        f"{DAVE.name} is not in the approvers group kcr-approvers and may not approve",
    ),
    Refused(
        "an-approval-for-someone-else",
        BOB,
        CAROL.name,
        f"kcr.dev/approved-by may only gain the requesting user {BOB.name}; each approver "
        f"approves as themselves (added: {CAROL.name})",
    ),
]


@pytest.mark.parametrize("case", REFUSED, ids=[case.id for case in REFUSED])
def test_the_api_server_refuses_the_approval(cluster: Cluster, name: str, case: Refused) -> None:
    digest = awaiting_approval(cluster, name)
    answer = cluster.as_person(case.person).annotate(
        NAMESPACE, name, **{APPROVED_BY: case.approved_by, APPROVED_SPEC_HASH: digest}
    )
    assert answer.status_code == 403
    message = refusal(answer)
    assert POLICY in message
    assert case.message in message
    stored = cluster.admin.get_request(NAMESPACE, name)
    assert APPROVED_BY not in (stored["metadata"].get("annotations") or {})


def test_an_approver_in_the_group_approves_with_kubectl_kcr(cluster: Cluster, name: str) -> None:
    digest = awaiting_approval(cluster, name)
    kubeconfig = cluster.kubeconfig(BOB.name, BOB.token)
    result = CliRunner().invoke(
        kubectl_kcr, ["--kubeconfig", str(kubeconfig), "-n", NAMESPACE, "approve", name]
    )
    assert result.exit_code == 0, result.output
    assert f"as {BOB.name}" in result.output
    annotations = cluster.admin.get_request(NAMESPACE, name)["metadata"]["annotations"]
    assert annotations[APPROVED_BY] == BOB.name
    assert annotations[APPROVED_SPEC_HASH] == digest


def test_a_person_cannot_request_as_someone_else(cluster: Cluster, name: str) -> None:
    answer = cluster.as_person(ALICE).create(change_request(name, CAROL.name))
    assert answer.status_code == 403
    assert f"must be the creating user {ALICE.name}, not {CAROL.name}" in refusal(answer)


def test_the_mcp_server_drafts_for_its_caller(cluster: Cluster, name: str) -> None:
    draft = change_request(name, ALICE.name, channel="mcp", namespace=SYSTEM_NAMESPACE)
    answer = cluster.as_account(MCP_ACCOUNT).create(draft)
    assert answer.status_code == 201, answer.text[:500]
    stored = cluster.admin.get_request(SYSTEM_NAMESPACE, name)
    assert stored["spec"]["requestedBy"]["principal"] == ALICE.name


def test_the_mcp_server_cannot_approve_a_request(cluster: Cluster, name: str) -> None:
    draft = change_request(name, ALICE.name, channel="mcp", namespace=SYSTEM_NAMESPACE)
    mcp = cluster.as_account(MCP_ACCOUNT)
    assert mcp.create(draft).status_code == 201
    answer = mcp.annotate(
        SYSTEM_NAMESPACE, name, **{APPROVED_BY: BOB.name, APPROVED_SPEC_HASH: "0" * 64}
    )
    assert answer.status_code == 403
    message = refusal(answer)
    assert f'User "{account_user(MCP_ACCOUNT)}" cannot patch resource' in message
    stored = cluster.admin.get_request(SYSTEM_NAMESPACE, name)
    assert APPROVED_BY not in (stored["metadata"].get("annotations") or {})


def test_the_mcp_server_cannot_draft_with_approvals(cluster: Cluster, name: str) -> None:
    draft = change_request(
        name,
        ALICE.name,
        channel="mcp",
        namespace=SYSTEM_NAMESPACE,
        annotations={APPROVED_BY: BOB.name, APPROVED_SPEC_HASH: "0" * 64},
    )
    answer = cluster.as_account(MCP_ACCOUNT).create(draft)
    assert answer.status_code == 403
    message = refusal(answer)
    assert POLICY in message
    assert "each approver adds their own approval after review" in message
