"""TokenReview for the MCP server's HTTP transport: only tokens issued for ``kcr-mcp`` pass.

The MCP server reviews callers' tokens with its own ServiceAccount, through the same client
code it runs in a cluster (``KubernetesApi.review_token``).
"""

import asyncio
from dataclasses import dataclass

import pytest

from kcr.mcp.kube_client import open_kube

from .cluster import ALICE, MCP_ACCOUNT, MCP_AUDIENCE, OPERATOR_ACCOUNT, Cluster, account_user
from .server import ISSUER


@dataclass(frozen=True)
class Token:
    id: str
    audience: str | None
    """The audience asked of the TokenRequest API; None: the API server's own."""
    issued_for: str
    accepted: bool


TOKENS = [
    Token("issued-for-kcr-mcp", MCP_AUDIENCE, MCP_AUDIENCE, accepted=True),
    Token("issued-for-the-api-server", None, ISSUER, accepted=False),
    Token("issued-for-another-service", "grafana", "grafana", accepted=False),
]


def reviewed(cluster: Cluster, token: str) -> tuple[dict[str, object], str | None]:
    """The API server's TokenReview status, and the user kcr's reviewer accepts (or None)."""
    mcp = cluster.as_account(MCP_ACCOUNT)
    answer = mcp.http.post(
        "/apis/authentication.k8s.io/v1/tokenreviews",
        json={
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token, "audiences": [MCP_AUDIENCE]},
        },
    )
    assert answer.status_code == 201, answer.text[:500]
    kubeconfig = cluster.kubeconfig("kcr-mcp", cluster.account_token(MCP_ACCOUNT))
    kube = open_kube(str(kubeconfig), namespace=MCP_ACCOUNT[0])

    async def review() -> str | None:
        try:
            user = await kube.review_token(token, MCP_AUDIENCE)
        finally:
            await kube.close()
        return None if user is None else user.username

    return answer.json()["status"], asyncio.run(review())


@pytest.mark.parametrize("case", TOKENS, ids=[case.id for case in TOKENS])
def test_a_service_account_token(cluster: Cluster, case: Token) -> None:
    token = cluster.account_token(OPERATOR_ACCOUNT, case.audience)
    status, user = reviewed(cluster, token)
    assert status.get("authenticated", False) is case.accepted
    if case.accepted:
        assert status["audiences"] == [MCP_AUDIENCE]
        assert user == account_user(OPERATOR_ACCOUNT)
    else:
        assert (
            f'token audiences ["{case.issued_for}"] is invalid for the target audiences '
            f'["{MCP_AUDIENCE}"]'
        ) in str(status["error"])
        assert user is None


def test_the_api_server_audience_is_its_issuer(cluster: Cluster) -> None:
    """The refused token is a good one, for the API server: it opens the API, not kcr-mcp."""
    token = cluster.account_token(OPERATOR_ACCOUNT, None)
    answer = cluster.as_token(token).http.post(
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    assert answer.status_code == 201, answer.text[:500]
    assert answer.json()["status"]["userInfo"]["username"] == account_user(OPERATOR_ACCOUNT)


def test_a_person_static_token_is_not_for_kcr_mcp(cluster: Cluster) -> None:
    """A static token carries no audience: the API server vouches for it only for itself."""
    status, user = reviewed(cluster, ALICE.token)
    assert status.get("authenticated", False) is False
    assert status["error"] == "invalid bearer token"
    assert user is None
