"""MCP authorization over HTTP: kcr as an OAuth 2.1 resource server for JWT access tokens.

A real RSA key signs the tokens; the issuer's discovery document and JWKS are served on
127.0.0.1 by the test. The same server also takes a static token from the access file and
Kubernetes TokenReview, side by side.
"""

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import jwt
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_servers import REVIEWED_TOKEN, REVIEWED_USER, TOKENS, Emulated, HttpServer
from mcp_support import NAMESPACE, Incident, engine_verdict, error_text, structured
from oidc_issuer import AUDIENCE, Issuer, new_key

from kcr.mcp.kube_client import open_kube

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]

TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "kcr-tests", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream"}


@asynccontextmanager
async def session(server: HttpServer, token: str) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        Client(streamable_http_client(server.url, http_client=http)) as client,
    ):
        yield client


async def status_of(server: HttpServer, token: str) -> int:
    async with httpx.AsyncClient(timeout=30) as raw:
        response = await raw.post(
            server.url, json=INITIALIZE, headers={**ACCEPT, "Authorization": f"Bearer {token}"}
        )
    return response.status_code


def audit(server: HttpServer) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.audit_log.read_text().splitlines()]


async def test_protected_resource_metadata_names_the_issuer_and_the_scopes(
    oidc_server: HttpServer, issuer: Issuer
) -> None:
    base = oidc_server.url.removesuffix("/mcp")
    async with httpx.AsyncClient(timeout=30) as raw:
        bare = await raw.get(f"{base}/.well-known/oauth-protected-resource")
        suffixed = await raw.get(f"{base}/.well-known/oauth-protected-resource/mcp")
        unauthenticated = await raw.post(oidc_server.url, json=TOOLS_LIST, headers=ACCEPT)
    assert bare.status_code == suffixed.status_code == 200
    metadata = bare.json()
    assert metadata == suffixed.json()
    assert metadata["resource"] == oidc_server.url
    assert metadata["authorization_servers"] == [issuer.url]
    assert metadata["scopes_supported"] == ["kcr:read", "kcr:draft"]
    assert metadata["bearer_methods_supported"] == ["header"]
    assert unauthenticated.status_code == 401
    challenge = unauthenticated.headers["www-authenticate"]
    assert f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"' in challenge


async def test_a_jwt_caller_is_its_kubernetes_user_with_its_grant(
    oidc_server: HttpServer, issuer: Issuer, incident: Incident
) -> None:
    async with session(oidc_server, issuer.token("alice")) as alice:
        names = {tool.name for tool in (await alice.list_tools()).tools}
        lag = structured(await alice.call_tool("consumer_lag", {"group": incident.orders_group}))
        foreign = await alice.call_tool("describe_topic", {"topic": "elsewhere.orders"})
    assert "draft_create_topic" in names
    assert lag["groups"][0]["group"] == incident.orders_group
    assert "outside your scope" in error_text(foreign)
    assert "/keys" in issuer.requests
    records = [r for r in audit(oidc_server) if r["tool"] == "consumer_lag"]
    assert (records[-1]["principal"], records[-1]["tenant"]) == ("oidc:alice", "team-a")


async def test_token_scopes_narrow_the_grant_and_groups_give_one(
    oidc_server: HttpServer, issuer: Issuer, incident: Incident
) -> None:
    async with session(oidc_server, issuer.token("alice", scope="kcr:read")) as reader:
        names = {tool.name for tool in (await reader.list_tools()).tools}
        refused = await reader.call_tool(
            "draft_delete_topic", {"topic": incident.orders, "reason": "tidy up old topics"}
        )
    assert "consumer_lag" in names
    assert not any(name.startswith("draft_") for name in names)
    assert "needs the drafter role" in error_text(refused)
    oncall = issuer.token("olga", groups=["kafka-oncall"], scope="openid kcr:read")
    async with session(oidc_server, oncall) as olga:
        overview = structured(await olga.call_tool("describe_topic", {"topic": incident.orders}))
    assert overview["name"] == incident.orders
    records = [r for r in audit(oidc_server) if r["principal"] == "oidc:olga"]
    assert records[-1]["tenant"] == "oncall"


async def test_tokens_that_do_not_verify_are_refused(
    oidc_server: HttpServer, issuer: Issuer
) -> None:
    now = int(time.time())
    forged = issuer.token("alice", signer=new_key())
    unsigned = jwt.encode(
        {"iss": issuer.url, "aud": AUDIENCE, "preferred_username": "alice", "exp": now + 600},
        key=None,
        algorithm="none",
    )
    refused = {
        "wrong issuer": issuer.token("alice", iss="https://elsewhere.example"),
        "wrong audience": issuer.token("alice", aud="https://kubernetes.default.svc"),
        "expired": issuer.token("alice", iat=now - 7200, exp=now - 3600),
        "another key": forged,
        "unsigned": unsigned,
        "no grant": issuer.token("mallory"),
        "no kcr scope": issuer.token("alice", scope="openid profile"),
    }
    statuses = {case: await status_of(oidc_server, token) for case, token in refused.items()}
    assert statuses == dict.fromkeys(refused, 401)
    assert await status_of(oidc_server, issuer.token("alice")) == 200


async def test_a_jwt_caller_cannot_approve_their_own_draft(
    oidc_server: HttpServer, issuer: Issuer, incident: Incident, emulator: Emulated
) -> None:
    """alice arrives by JWT as oidc:alice: her draft names oidc:alice, whom the engine
    refuses as its approver, as it refuses her by any spelling of the same name."""
    async with session(oidc_server, issuer.token("alice")) as alice:
        draft = structured(
            await alice.call_tool(
                "draft_create_topic",
                {
                    "topic": incident.orders.rsplit(".", 1)[0] + ".refunds",
                    "partitions": 3,
                    "replication_factor": 1,
                    "reason": "refunds get their own stream",
                },
            )
        )
    kube = open_kube(str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        stored = await kube.get_change_request(draft["name"])
    finally:
        await kube.close()
    assert stored is not None
    assert stored["spec"]["requestedBy"]["principal"] == "oidc:alice"
    for spelling in ("oidc:alice", "alice"):
        verdict = engine_verdict(stored, spelling)
        assert f"{spelling} requested this change and may not approve it" in verdict


async def test_the_access_file_and_token_review_work_beside_jwts(
    oidc_server: HttpServer,
) -> None:
    async with session(oidc_server, TOKENS["victor"]) as victor:
        structured(await victor.call_tool("cluster_overview", {}))
    async with session(oidc_server, REVIEWED_TOKEN) as reviewed:
        structured(await reviewed.call_tool("cluster_overview", {}))
    principals = {r["principal"] for r in audit(oidc_server) if r["tool"] == "cluster_overview"}
    assert {"victor", REVIEWED_USER} <= principals
