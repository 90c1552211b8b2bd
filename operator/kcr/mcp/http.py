"""Streamable HTTP: the SDK's bearer auth in front, and an audit record for every refusal.

Requests without a valid token are answered 401 by the SDK before any MCP message is
read; the wrapper here sees that answer and records it (who is unknown, so the principal
is anonymous), so a scan with no or stolen-and-revoked tokens leaves a trail.
"""

import time
import uuid
from typing import Any

import uvicorn
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kcr.mcp.audit import AuditRecord, Outcome, now_utc
from kcr.mcp.middleware import ANONYMOUS, HTTP, Gate
from kcr.mcp.server import KcrServer

UNAUTHENTICATED_TOOL = "(http request)"
SCHEMES = ("http", "https")


class AuditRefusals:
    def __init__(self, app: ASGIApp, gate: Gate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        presented = headers.get("authorization", "").lower().startswith("bearer ")

        async def observe(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in {401, 403}:
                self._record(message["status"], presented, scope, started)
            await send(message)

        await self.app(scope, receive, observe)

    def _record(self, status: int, presented: bool, scope: Scope, started: float) -> None:
        seconds = time.perf_counter() - started
        reason = (
            "the bearer token was not accepted" if presented else "no bearer token was presented"
        )
        self.gate.metrics.observe(UNAUTHENTICATED_TOOL, Outcome.UNAUTHENTICATED, seconds)
        self.gate.audit.write(
            AuditRecord(
                time=now_utc(),
                correlation_id=uuid.uuid4().hex,
                principal=ANONYMOUS,
                transport=HTTP,
                tool=UNAUTHENTICATED_TOOL,
                arguments="{}",
                outcome=Outcome.UNAUTHENTICATED,
                reason=f"HTTP {status} on {scope.get('path', '')}: {reason}",
                duration_ms=round(seconds * 1000, 3),
            )
        )


def http_app(server: KcrServer, host: str, allowed_hosts: tuple[str, ...] = ()) -> ASGIApp:
    """``allowed_hosts`` keeps DNS-rebinding protection on behind a real host name."""
    security = None
    if allowed_hosts:
        security = TransportSecuritySettings(
            allowed_hosts=list(allowed_hosts),
            allowed_origins=[f"{scheme}://{h}" for h in allowed_hosts for scheme in SCHEMES],
        )
    app = server.mcp.streamable_http_app(host=host, transport_security=security)
    return AuditRefusals(app, server.gate)


def uvicorn_server(app: ASGIApp, host: str, port: int, **options: Any) -> uvicorn.Server:
    """Uvicorn logging goes through the root logger (JSON), not its own handlers."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, **options)
    return uvicorn.Server(config)
