"""Two ``kcr mcp --transport http`` replicas behind one imagined Service: a principal's rate
limit is counted once, in Leases on the Kubernetes emulator, whichever replica is called."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_servers import TOKENS, Emulated, HttpServer
from mcp_support import NAMESPACE, error_text, structured

from kcr.mcp.gate.shared_ratelimit import PRINCIPAL, lease_name
from kcr.mcp.gate.shared_ratelimit import TOKENS as TOKENS_LEFT

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]

LEASES = f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases"


@asynccontextmanager
async def session(server: HttpServer, token: str) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(server.url, http_client=http)) as client,
    ):
        yield client


async def test_a_principal_limit_holds_across_two_replicas(
    replicas: tuple[HttpServer, HttpServer], emulator: Emulated
) -> None:
    first, second = replicas
    async with session(first, TOKENS["burst"]) as client:
        on_first = [await client.call_tool("cluster_overview", {}) for _ in range(2)]
    async with session(second, TOKENS["burst"]) as client:
        on_second = [await client.call_tool("cluster_overview", {}) for _ in range(2)]
    async with session(second, TOKENS["victor"]) as other:
        served = structured(await other.call_tool("cluster_overview", {}))

    assert [r.is_error for r in on_first + on_second] == [False, False, False, True], (
        "a burst of 3 is shared: the second replica serves one call, then refuses"
    )
    assert "rate limit exceeded for burst" in error_text(on_second[-1])
    assert served["brokers"], "another principal keeps its own limit"
    async with httpx.AsyncClient(base_url=emulator.kube.url) as kube:
        lease = await kube.get(f"{LEASES}/{lease_name('burst')}")
    lease.raise_for_status()
    annotations = lease.json()["metadata"]["annotations"]
    assert annotations[PRINCIPAL] == "burst"
    assert float(annotations[TOKENS_LEFT]) < 1.0
