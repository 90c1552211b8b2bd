"""``kcr mcp --transport http`` as a subprocess: bearer tokens, roles, scopes, rate limits,
drafts into the Kubernetes emulator, the audit log file and the metrics endpoint."""

import importlib.util
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_servers import (
    API_SERVER_TOKEN,
    REVIEWED_TOKEN,
    REVIEWED_USER,
    TOKENS,
    UNAWARE_TOKEN,
    Emulated,
    HttpServer,
)
from mcp_support import NAMESPACE, Incident, engine_verdict, error_text, structured

from kcr.mcp.kube_client import open_kube

INITIALIZE = {
    "protocolVersion": "2025-06-18",
    "capabilities": {},
    "clientInfo": {"name": "kcr-tests", "version": "1"},
}

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]


@asynccontextmanager
async def session(server: HttpServer, token: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(server.url, http_client=http)) as client,
    ):
        yield client


def audit(server: HttpServer) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.audit_log.read_text().splitlines()]


def mcp_errors(error: BaseException) -> list[MCPError]:
    if isinstance(error, MCPError):
        return [error]
    if isinstance(error, BaseExceptionGroup):
        return [e for inner in error.exceptions for e in mcp_errors(inner)]
    return []


async def test_no_token_no_call(http_server: HttpServer) -> None:
    for token in (None, "not-a-token-we-know-of-0123"):
        with pytest.raises(BaseException) as refused:  # noqa: PT011 (an ExceptionGroup)
            async with session(http_server, token) as client:
                await client.call_tool("cluster_overview", {})
        assert mcp_errors(refused.value), refused.value
    async with httpx.AsyncClient() as raw:
        response = await raw.post(
            http_server.url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={"Accept": "application/json, text/event-stream"},
        )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    async with httpx.AsyncClient() as raw:
        health = await raw.get(http_server.url.removesuffix("/mcp") + "/healthz")
    assert (health.status_code, health.text) == (200, "ok"), "probes need no token"
    refusals = [r for r in audit(http_server) if r["outcome"] == "unauthenticated"]
    reasons = {r["reason"].split(": ", 1)[1] for r in refusals}
    assert reasons == {"no bearer token was presented", "the bearer token was not accepted"}
    assert all(r["principal"] == "(anonymous)" and r["transport"] == "http" for r in refusals)


async def test_roles_scopes_and_drafts_into_kubernetes(
    http_server: HttpServer, incident: Incident, emulator: Emulated
) -> None:
    new_topic = incident.orders.rsplit(".", 1)[0] + ".refunds"
    async with session(http_server, TOKENS["victor"]) as viewer:
        read = structured(await viewer.call_tool("consumer_lag", {"group": incident.billing_group}))
        denied = await viewer.call_tool(
            "draft_delete_topic", {"topic": incident.orders, "reason": "retire the orders topic"}
        )
    async with session(http_server, TOKENS["alice"]) as alice:
        outside = await alice.call_tool("describe_topic", {"topic": "payments.global"})
        draft = structured(
            await alice.call_tool(
                "draft_create_topic",
                {
                    "topic": new_topic,
                    "partitions": 6,
                    "replication_factor": 1,
                    "configs": {"retention.ms": "86400000"},
                    "reason": "refunds get their own stream",
                },
            )
        )
    assert read["totalLag"] == 590
    assert "draft_delete_topic needs the drafter role; victor has: viewer" in error_text(denied)
    assert "topic `payments.global` is outside your scope" in error_text(outside)
    assert draft["created"] is True
    assert draft["sink"] == "kube"
    kube = open_kube(str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        stored = await kube.get_change_request(draft["name"])
    finally:
        await kube.close()
    assert stored is not None
    spec = stored["spec"]
    assert spec["requestedBy"]["principal"] == "oidc:alice"  # who alice is to Kubernetes
    assert spec["requestedBy"]["tenant"] == "team-a"
    assert spec["requestedBy"]["channel"] == "mcp"
    assert spec["change"]["createTopic"] == {
        "topic": new_topic,
        "partitions": 6,
        "replicationFactor": 1,
        "allowUnknownKeys": False,
        "configs": {"retention.ms": "86400000"},
    }
    assert spec["observed"]["topics"][0]["name"] == new_topic
    assert spec["observed"]["topics"][0]["exists"] is False
    records = {(r["principal"], r["tool"], r["outcome"]) for r in audit(http_server)}
    assert {
        ("victor", "consumer_lag", "ok"),
        ("victor", "draft_delete_topic", "denied"),
        ("alice", "describe_topic", "denied"),
        ("alice", "draft_create_topic", "ok"),
    } <= records


async def test_allowed_hosts_keep_dns_rebinding_protection_on(guarded_server: HttpServer) -> None:
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    accept = {"Accept": "application/json, text/event-stream"}
    token = {"Authorization": f"Bearer {TOKENS['victor']}"}
    async with httpx.AsyncClient() as raw:
        foreign = await raw.post(
            guarded_server.url, json=listing, headers={**accept, **token, "Host": "evil.example"}
        )
        named = await raw.post(
            guarded_server.url,
            json={**listing, "method": "initialize", "params": INITIALIZE},
            headers={**accept, **token, "Host": "kcr.example:8000"},
        )
    assert foreign.status_code == 421, foreign.text
    assert named.status_code == 200, named.text


async def test_rate_limit_per_principal_and_metrics(http_server: HttpServer) -> None:
    async with session(http_server, TOKENS["burst"]) as client:
        results = [await client.call_tool("cluster_overview", {}) for _ in range(13)]
    async with session(http_server, TOKENS["victor"]) as other:
        served = structured(await other.call_tool("cluster_overview", {}))
    assert [r.is_error for r in results] == [False] * 12 + [True]
    assert "rate limit exceeded for burst" in error_text(results[-1])
    assert served["brokers"], "another principal is not limited"
    async with httpx.AsyncClient() as raw:
        anonymous = await raw.post(http_server.url, json={})
        metrics = (await raw.get(f"http://127.0.0.1:{http_server.metrics_port}/metrics")).text
    assert anonymous.status_code == 401
    assert 'kcr_mcp_tool_calls_total{outcome="rate_limited",tool="cluster_overview"} 1.0' in metrics
    assert 'kcr_mcp_tool_duration_seconds_count{outcome="ok",tool="cluster_overview"}' in metrics
    assert 'kcr_mcp_tool_calls_total{outcome="unauthenticated",tool="unknown"}' in metrics


async def test_token_review_maps_the_kubernetes_user(review_server: HttpServer) -> None:
    async with session(review_server, REVIEWED_TOKEN) as client:
        served = structured(await client.call_tool("cluster_overview", {}))
        denied = await client.call_tool(
            "draft_delete_topic", {"topic": "orders", "reason": "clean up old streams"}
        )
    for token in ("a-token-nobody-issued-012345", API_SERVER_TOKEN, UNAWARE_TOKEN):
        with pytest.raises(BaseException) as refused:  # noqa: PT011 (an ExceptionGroup)
            async with session(review_server, token) as client:
                await client.call_tool("cluster_overview", {})
        assert mcp_errors(refused.value), token
    assert served["cluster"] == "prod"
    assert f"needs the drafter role; {REVIEWED_USER} has: viewer" in error_text(denied)
    records = audit(review_server)
    assert [
        (r["principal"], r["tenant"], r["outcome"])
        for r in records
        if r["tool"] != "(http request)"
    ] == [
        (REVIEWED_USER, "oncall", "ok"),
        (REVIEWED_USER, "oncall", "denied"),
    ]
    assert any(r["reason"].endswith("the bearer token was not accepted") for r in records)


def _admission_policy() -> Any:
    """The CEL harness the admission policy's own tests use (tests/unit/admission_policy.py)."""
    path = Path(__file__).resolve().parents[1] / "unit" / "admission_policy.py"
    spec = importlib.util.spec_from_file_location("kcr_admission_policy", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_a_token_caller_cannot_approve_their_own_draft_as_their_kubernetes_user(
    http_server: HttpServer, incident: Incident, emulator: Emulated
) -> None:
    """alice's token maps to oidc:alice: the draft names oidc:alice, whom both the API
    server's admission policy and the operator refuse as its approver."""
    async with session(http_server, TOKENS["alice"]) as alice:
        draft = structured(
            await alice.call_tool(
                "draft_create_topic",
                {
                    "topic": incident.orders.rsplit(".", 1)[0] + ".chargebacks",
                    "partitions": 3,
                    "replication_factor": 1,
                    "reason": "chargebacks get their own stream",
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
    policy = _admission_policy()
    approvers = [policy.PARAMS["data"]["approversGroup"]]
    approval = {"kcr.dev/approved-by": "oidc:alice", "kcr.dev/approved-spec-hash": "a" * 64}
    denied = policy.denials(
        operation="UPDATE",
        user="oidc:alice",
        groups=approvers,
        obj={**stored, "metadata": {**stored["metadata"], "annotations": approval}},
        old=stored,
    )
    assert "oidc:alice requested this change and may not approve it" in denied.values()
    assert "oidc:alice requested this change and may not approve it" in engine_verdict(
        stored, "oidc:alice"
    )
