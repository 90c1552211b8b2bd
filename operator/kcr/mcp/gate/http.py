"""Streamable HTTP: the SDK's bearer auth in front, and every refusal audited and limited.

Requests without a valid token are answered 401 by the SDK before any MCP message is
read, as are malformed (400), oversized (413) and misdirected (421) ones; the wrapper here
sees each answer and records it (who is unknown, so the principal is anonymous), so a scan
leaves a trail. A client address whose requests keep being refused is answered 429 for a
while before its token is even looked at: guessing tokens costs neither a TokenReview nor
the audit log more than the rate limit allows. Requests whose token was accepted are never
held back by their address, which a proxy may share with a scanner.
"""

import json
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import uvicorn
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kcr.mcp.gate.access_file import token_digest
from kcr.mcp.gate.audit import AuditRecord, Outcome, now_utc
from kcr.mcp.gate.middleware import ANONYMOUS, HTTP, Gate
from kcr.mcp.gate.ratelimit import RateLimiter, RateLimits
from kcr.mcp.server import KcrServer

UNAUTHENTICATED_TOOL = "(http request)"
SCHEMES = ("http", "https")
TRUSTED_TOKENS = 10_000
TRUSTED_SECONDS = 300.0
_REASONS = {
    400: "the request was malformed",
    404: "no such path or session",
    413: "the request body is too large",
    421: "the Host header names no host this server answers to",
}


@dataclass(frozen=True)
class _Request:
    """What the wrapper knows of a request before the SDK answers it."""

    path: str
    address: str
    presented: bool
    digest: str
    started: float

    @classmethod
    def of(cls, scope: Scope) -> "_Request":
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        authorization = headers.get("authorization", "")
        presented = authorization.lower().startswith("bearer ")
        return cls(
            path=str(scope.get("path", "")),
            address=str((scope.get("client") or ("(unknown)",))[0]),
            presented=presented,
            digest=token_digest(authorization[7:].strip()) if presented else "",
            started=time.perf_counter(),
        )


class AuditRefusals:
    def __init__(self, app: ASGIApp, gate: Gate, refusals: RateLimiter) -> None:
        self.app = app
        self.gate = gate
        self.refusals = refusals
        self._trusted: OrderedDict[str, float] = OrderedDict()
        """Digests of tokens the SDK accepted recently, with when that stops counting."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = _Request.of(scope)
        if not self._is_trusted(request.digest):
            wait = self.refusals.waiting(request.address)
            if wait is not None:
                await _too_many(send, wait)
                reason = f"too many refused requests from {request.address}; retry in {wait:.0f} s"
                self._record(429, Outcome.RATE_LIMITED, reason, request)
                return

        async def observe(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._judge(message["status"], request, scope)
            await send(message)

        await self.app(scope, receive, observe)

    def _judge(self, status: int, request: _Request, scope: Scope) -> None:
        if status in {401, 403}:
            reason = (
                "the bearer token was not accepted"
                if request.presented
                else "no bearer token was presented"
            )
            self._record(status, Outcome.UNAUTHENTICATED, reason, request)
        elif 400 <= status < 500:
            reason = _REASONS.get(status, HTTPStatus(status).phrase.lower())
            self._record(status, Outcome.INVALID, reason, request)
        elif request.digest and getattr(scope.get("user"), "is_authenticated", False):
            # The SDK's auth middleware put the verified user into this same scope.
            self._trust(request.digest)
            return
        else:
            return
        if not self._is_trusted(request.digest):
            self.refusals.acquire(request.address)

    def _is_trusted(self, digest: str) -> bool:
        until = self._trusted.get(digest) if digest else None
        return until is not None and until > time.monotonic()

    def _trust(self, digest: str) -> None:
        self._trusted[digest] = time.monotonic() + TRUSTED_SECONDS
        self._trusted.move_to_end(digest)
        while len(self._trusted) > TRUSTED_TOKENS:
            self._trusted.popitem(last=False)

    def _record(self, status: int, outcome: Outcome, reason: str, request: _Request) -> None:
        seconds = time.perf_counter() - request.started
        self.gate.metrics.observe(UNAUTHENTICATED_TOOL, outcome, seconds)
        self.gate.audit.write(
            AuditRecord(
                time=now_utc(),
                correlation_id=uuid.uuid4().hex,
                principal=ANONYMOUS,
                transport=HTTP,
                tool=UNAUTHENTICATED_TOOL,
                arguments="{}",
                outcome=outcome,
                reason=f"HTTP {status} on {request.path}: {reason}",
                duration_ms=round(seconds * 1000, 3),
            )
        )


async def _too_many(send: Send, wait: float) -> None:
    body = json.dumps(
        {"error": "too_many_requests", "error_description": "too many refused requests"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(max(1, round(wait))).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def http_app(
    server: KcrServer,
    host: str,
    allowed_hosts: tuple[str, ...] = (),
    refusal_limits: RateLimits | None = None,
) -> ASGIApp:
    """``allowed_hosts`` keeps DNS-rebinding protection on behind a real host name;
    ``refusal_limits`` bound the refused requests per client address."""
    security = None
    if allowed_hosts:
        security = TransportSecuritySettings(
            allowed_hosts=list(allowed_hosts),
            allowed_origins=[f"{scheme}://{h}" for h in allowed_hosts for scheme in SCHEMES],
        )
    app = server.mcp.streamable_http_app(host=host, transport_security=security)
    app.router.routes[0:0] = server.metadata_routes  # ahead of the SDK's own metadata route
    return AuditRefusals(app, server.gate, RateLimiter(refusal_limits or RateLimits()))


def uvicorn_server(app: ASGIApp, host: str, port: int, **options: Any) -> uvicorn.Server:
    """Uvicorn logging goes through the root logger (JSON), not its own handlers."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, **options)
    return uvicorn.Server(config)
