"""Refused HTTP requests (400, 401, 413, 421) are audited, and an address that keeps being
refused is answered 429 without its tokens being reviewed; accepted callers go on.

The server runs in this process under uvicorn on a free 127.0.0.1 port, with the SDK's
real bearer auth and transport security in front of it.
"""

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio

from kcr.kafka.fake import FakeKafka
from kcr.mcp.cluster import ClusterContext
from kcr.mcp.drafts import YamlDraftSink
from kcr.mcp.gate.access_file import AccessFile, token_digest
from kcr.mcp.gate.audit import MemorySink, Outcome
from kcr.mcp.gate.auth import TokenFileVerifier, TokenReviewVerifier
from kcr.mcp.gate.http import http_app, uvicorn_server
from kcr.mcp.gate.ratelimit import RateLimits
from kcr.mcp.kube import ReviewedUser
from kcr.mcp.runbooks import RunbookLibrary
from kcr.mcp.sampler import GroupSampler
from kcr.mcp.server import ServerOptions, build_server
from kcr.mcp.services import Services

pytestmark = pytest.mark.asyncio

TOKEN = "a-token-from-the-access-file-0001"
HOST = "kcr.example:8000"
BURST = 6
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
ACCEPT = {"Accept": "application/json, text/event-stream", "Host": HOST}


class CountingReviewer:
    """The API server's TokenReview, for tokens nobody issued: it knows none of them."""

    def __init__(self) -> None:
        self.reviews = 0

    async def review_token(self, token: str, audience: str) -> ReviewedUser | None:
        self.reviews += 1
        return None


@dataclass
class Served:
    url: str
    audit: MemorySink
    reviewer: CountingReviewer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest_asyncio.fixture
async def served() -> AsyncIterator[Served]:
    access = AccessFile.model_validate(
        {
            "tokens": [
                {
                    "tokenSha256": token_digest(TOKEN),
                    "principal": "alice",
                    "roles": ["viewer"],
                    "topicPrefixes": ["*"],
                    "groupPrefixes": ["*"],
                }
            ]
        }
    )
    reviewer = CountingReviewer()
    audit = MemorySink()
    kafka = FakeKafka()
    services = Services(
        kafka=kafka,
        cluster=ClusterContext(name="prod", namespace="kafka"),
        drafts=YamlDraftSink(),
        runbooks=RunbookLibrary.load(),
        sampler=GroupSampler(kafka, interval=0),
    )
    verifier = TokenReviewVerifier(reviewer, access, fallback=TokenFileVerifier(access))
    server = build_server(services, ServerOptions(audit=audit, token_verifier=verifier))
    port = free_port()
    app = http_app(server, "127.0.0.1", (HOST,), RateLimits(per_minute=1, burst=BURST))
    uvicorn = uvicorn_server(app, "127.0.0.1", port)
    task = asyncio.create_task(uvicorn.serve())
    try:
        for _ in range(200):
            if uvicorn.started or task.done():
                break
            await asyncio.sleep(0.05)
        assert uvicorn.started, "uvicorn did not start within 10 s"
        yield Served(f"http://127.0.0.1:{port}/mcp", audit, reviewer)
    finally:
        uvicorn.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_refusals_are_audited_and_limited_per_address(served: Served) -> None:
    good = {**ACCEPT, "Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(timeout=30) as http:
        accepted = await http.post(served.url, json=INITIALIZE, headers=good)
        statuses = [
            (await http.post(served.url, content=b"{not json", headers=good)).status_code,
            (
                await http.post(
                    served.url, json=INITIALIZE, headers={**good, "Host": "evil.example"}
                )
            ).status_code,
            (await http.post(served.url, content=b"x" * 5_000_000, headers=good)).status_code,
            (await http.post(served.url, json=INITIALIZE, headers=ACCEPT)).status_code,
        ]
        guesses = [
            await http.post(
                served.url,
                json=INITIALIZE,
                headers={**ACCEPT, "Authorization": f"Bearer guess-{n}"},
            )
            for n in range(10)
        ]
        still = await http.post(served.url, json=INITIALIZE, headers=good)

    assert accepted.status_code == 200, accepted.text
    assert statuses == [400, 421, 413, 401]
    # The accepted caller's own refusals are audited but spend nothing of the address's
    # budget: the request without a token and five guesses spend the burst of six, then the
    # address is answered 429.
    assert [g.status_code for g in guesses] == [401] * 5 + [429] * 5
    assert guesses[-1].headers["retry-after"] == "60"
    assert served.reviewer.reviews == 5, "a limited address gets no TokenReview"
    assert still.status_code == 200, "a caller whose token was accepted is not held back"
    records = [(r.outcome, r.reason) for r in served.audit.records]
    assert records[:6] == [
        (Outcome.INVALID, "HTTP 400 on /mcp: the request was malformed"),
        (Outcome.INVALID, "HTTP 421 on /mcp: the Host header names no host this server answers to"),
        (Outcome.INVALID, "HTTP 413 on /mcp: the request body is too large"),
        (Outcome.UNAUTHENTICATED, "HTTP 401 on /mcp: no bearer token was presented"),
        (Outcome.UNAUTHENTICATED, "HTTP 401 on /mcp: the bearer token was not accepted"),
        (Outcome.UNAUTHENTICATED, "HTTP 401 on /mcp: the bearer token was not accepted"),
    ]
    limited = [r for r in served.audit.records if r.outcome is Outcome.RATE_LIMITED]
    assert len(limited) == 5
    assert limited[0].reason.startswith(
        "HTTP 429 on /mcp: too many refused requests from 127.0.0.1"
    )
