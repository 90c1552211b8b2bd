"""Assembling the MCP server: tools, the gate middleware, bearer auth and the sampler."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import anyio
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.routes import create_protected_resource_routes
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from pydantic import AnyHttpUrl
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from kcr.mcp.gate.audit import AuditSink
from kcr.mcp.gate.guards import GuardLimits
from kcr.mcp.gate.identity import Caller
from kcr.mcp.gate.metrics import ToolMetrics
from kcr.mcp.gate.middleware import Gate, GateMiddleware
from kcr.mcp.gate.oidc import SCOPES
from kcr.mcp.gate.ratelimit import RateLimiter, RateLimits
from kcr.mcp.gate.shared_ratelimit import SharedRateLimiter
from kcr.mcp.services import Services
from kcr.mcp.shared_sampler import SharedSampling
from kcr.mcp.tools.registry import (
    register_tools,
    tool_arguments,
    tool_names,
    unavailable_tools,
)

MCP_PATH = "/mcp"
WELL_KNOWN = "/.well-known/oauth-protected-resource"

INSTRUCTIONS = """\
kcr reads one Kafka cluster through typed, read-only tools and drafts changes as
KafkaChangeRequest resources that people review and approve; nothing here executes a
change. Start with explain_current_state for a topic or consumer group: it ranks what is
wrong and cites the evidence for every claim. Arguments are names and one-line prose:
never paste logs or shell text into them. Drafts record who asked and what was observed.
"""


@dataclass
class ServerOptions:
    audit: AuditSink
    audit_sync_reads: bool = False
    local_caller: Caller | None = None
    rate_limits: RateLimits = field(default_factory=RateLimits)
    shared_limiter: SharedRateLimiter | None = None
    """The rate limits kept where every replica takes from them; None: in this process."""
    guard_limits: GuardLimits = field(default_factory=GuardLimits)
    token_verifier: TokenVerifier | None = None
    public_url: str = "http://127.0.0.1"
    authorization_server: str | None = None
    """The OIDC issuer that issues JWT access tokens for this server, if any: named in the
    protected resource metadata (RFC 9728) so that MCP clients can discover it."""
    background_sampling: bool = False
    shared_sampling: SharedSampling | None = None
    """One replica samples for all (a Lease elects it); None: this process samples alone."""
    metrics: ToolMetrics | None = None


@dataclass
class KcrServer:
    mcp: MCPServer[Any]
    gate: Gate
    services: Services
    metadata_routes: list[Route] = field(default_factory=list)
    """Protected resource metadata, served ahead of the SDK's routes (see ``http_app``)."""


def build_server(services: Services, options: ServerOptions) -> KcrServer:
    read, draft = tool_names()
    unavailable = unavailable_tools(services)
    gate = Gate(
        read_tools=read - unavailable.keys(),
        draft_tools=draft - unavailable.keys(),
        unavailable=unavailable,
        arguments=tool_arguments(),
        local_caller=options.local_caller,
        limits=options.guard_limits,
        limiter=RateLimiter(options.rate_limits),
        shared_limiter=options.shared_limiter,
        audit=options.audit,
        sync_reads=options.audit_sync_reads,
        metrics=options.metrics or ToolMetrics(read | draft),
    )

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[dict[str, Any]]:
        async with anyio.create_task_group() as tasks:
            if options.background_sampling and services.sampler.interval > 0:
                shared = options.shared_sampling
                tasks.start_soon(shared.run if shared else services.sampler.run)
            yield {}
            tasks.cancel_scope.cancel()

    auth = None
    metadata: list[Route] = []
    if options.token_verifier is not None:
        auth = _auth_settings(options)
        if auth.resource_server_url is not None:
            metadata = protected_resource_routes(auth.resource_server_url, auth.issuer_url)
    server: MCPServer[Any] = MCPServer(
        "kcr",
        title="kcr: Kafka change requests",
        instructions=INSTRUCTIONS,
        version=version("kcr"),
        token_verifier=options.token_verifier,
        auth=auth,
        lifespan=lifespan,
        middleware=[GateMiddleware(gate)],
    )
    register_tools(server, services)

    async def healthz(_: Request) -> Response:
        """For liveness and readiness probes, which carry no bearer token."""
        return PlainTextResponse("ok")

    server.custom_route("/healthz", methods=["GET"])(healthz)

    return KcrServer(mcp=server, gate=gate, services=services, metadata_routes=metadata)


def _auth_settings(options: ServerOptions) -> AuthSettings:
    """With an OIDC issuer, kcr is an OAuth resource server: 401 answers point clients at
    the metadata, which names the issuer. The audience is checked by the verifier."""
    if options.authorization_server is None:
        return AuthSettings.model_validate(
            {"issuer_url": options.public_url, "resource_server_url": None}
        )
    return AuthSettings.model_validate(
        {
            "issuer_url": options.authorization_server,
            "resource_server_url": options.public_url.rstrip("/") + MCP_PATH,
            "validate_token_resource": False,
        }
    )


def protected_resource_routes(resource: AnyHttpUrl, issuer: AnyHttpUrl) -> list[Route]:
    """RFC 9728 metadata at the path-suffixed address (``/.well-known/oauth-protected-
    resource/mcp``) and at the bare one, which some clients ask first; both list kcr's
    scopes, so a client knows what to request."""
    routes = create_protected_resource_routes(
        resource_url=resource,
        authorization_servers=[issuer],
        scopes_supported=list(SCOPES),
        resource_name="kcr: Kafka change requests",
    )
    bare = [Route(WELL_KNOWN, endpoint=r.endpoint, methods=r.methods) for r in routes]
    return [*routes, *bare]
