"""The gate every tool call passes: identity, rate limit, role, argument guards, audit.

First denial wins and ends the call with a tool error the model can read (and act on),
plus an audit record and a metric; the server keeps serving. ``tools/list`` shows a
caller only the tools their roles allow.
"""

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST, CallToolResult, TextContent
from pydantic import BaseModel

from kcr.mcp.gate.audit import AuditRecord, AuditSink, Outcome, now_utc, recorded_arguments
from kcr.mcp.gate.audit_chain import canonical, digest_of_bytes
from kcr.mcp.gate.auth import caller_of
from kcr.mcp.gate.calls import CallContext, current_call
from kcr.mcp.gate.guards import ArgumentRejectedError, GuardLimits, check_arguments
from kcr.mcp.gate.identity import Caller, Role
from kcr.mcp.gate.metrics import ToolMetrics
from kcr.mcp.gate.ratelimit import RateLimiter
from kcr.mcp.gate.shared_ratelimit import SharedRateLimiter

log = logging.getLogger(__name__)

LOCAL = "local"
HTTP = "http"
ANONYMOUS = "(anonymous)"


@dataclass
class Gate:
    read_tools: frozenset[str]
    draft_tools: frozenset[str]
    arguments: dict[str, frozenset[str]]
    local_caller: Caller | None
    limits: GuardLimits
    limiter: RateLimiter
    audit: AuditSink
    metrics: ToolMetrics
    max_output_bytes: int = 1_048_576
    shared_limiter: SharedRateLimiter | None = None
    """Every replica's limit in one store; when None, this process's ``limiter`` decides."""
    unavailable: Mapping[str, str] = field(default_factory=dict)
    """Tools this server does not offer, each with the one line that says what they need."""
    sync_reads: bool = False
    """An answered read's reply waits for its record's sync to disk too; by default it
    leaves once the record is written (a crash of this process keeps it)."""

    def synced_before_reply(self, tool: str, outcome: Outcome) -> bool:
        """Drafts and refused or failed calls always are: a draft leaves a change request
        behind, a refusal may be an attack. A read's answer changed nothing."""
        return self.sync_reads or outcome is not Outcome.OK or tool not in self.read_tools

    def allowed(self, caller: Caller) -> frozenset[str]:
        tools: frozenset[str] = frozenset()
        if caller.has(Role.VIEWER):
            tools |= self.read_tools
        if caller.has(Role.DRAFTER):
            tools |= self.draft_tools
        return tools


@dataclass(frozen=True)
class _Refusal:
    outcome: Outcome
    reason: str


class GateMiddleware:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if ctx.method == "tools/list":
            return await self._list(ctx, call_next)
        if ctx.method == "tools/call":
            return await self._call(ctx, call_next)
        return await call_next(ctx)

    def _identify(self, ctx: ServerRequestContext[Any, Any]) -> tuple[Caller | None, str]:
        """HTTP callers come from their verified bearer token; local ones are configured."""
        request = ctx.request
        if request is None:
            return self.gate.local_caller, LOCAL
        user = getattr(request, "scope", {}).get("user")
        if isinstance(user, AuthenticatedUser):
            return caller_of(user.access_token), HTTP
        return None, HTTP

    async def _list(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        caller, _ = self._identify(ctx)
        if caller is None:
            raise MCPError(code=INVALID_REQUEST, message="no authenticated caller")
        result = await call_next(ctx)
        if isinstance(result, dict) and isinstance(result.get("tools"), list):
            allowed = self.gate.allowed(caller)
            result = {**result, "tools": [t for t in result["tools"] if t.get("name") in allowed]}
        return result

    async def _call(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        started = time.perf_counter()
        params: Mapping[str, Any] = ctx.params or {}
        tool = str(params.get("name", ""))[:128]
        arguments = params.get("arguments")
        caller, transport = self._identify(ctx)
        call = CallContext(
            caller=caller or Caller(principal=ANONYMOUS),
            correlation_id=uuid.uuid4().hex,
            transport=transport,
            tool=tool,
        )
        wait = None if caller is None else await self._acquire(caller.principal)
        refusal = self._check(caller, tool, arguments, wait)
        if refusal is not None:
            refused = _error(f"{refusal.reason} (correlation id {call.correlation_id})")
            await self._record(
                call, arguments, refusal.outcome, refusal.reason, started, sent=_wire_form(refused)
            )
            return refused
        token = current_call.set(call)
        try:
            result = await call_next(ctx)
        except MCPError as error:
            await self._record(call, arguments, Outcome.ERROR, error.error.message, started)
            raise
        except Exception as error:
            reason = f"failed unexpectedly ({type(error).__name__})"
            await self._record(call, arguments, Outcome.ERROR, reason, started)
            raise
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await self._record(
                    call, arguments, Outcome.ERROR, "cancelled before it finished", started
                )
            raise
        finally:
            current_call.reset(token)
        outcome, reason = _outcome_of(call, result)
        sent = _wire_form(result)
        if outcome is Outcome.OK and len(sent) > self.gate.max_output_bytes:
            outcome = Outcome.INVALID
            reason = (
                f"the result is larger than {self.gate.max_output_bytes} bytes; narrow the "
                "question (a topic or group, a smaller limit, the next page)"
            )
            result = _error(f"{reason} (correlation id {call.correlation_id})")
            sent = _wire_form(result)
        await self._record(call, arguments, outcome, reason, started, sent=sent)
        return result

    async def _acquire(self, principal: str) -> float | None:
        if self.gate.shared_limiter is not None:
            return await self.gate.shared_limiter.acquire(principal)
        return self.gate.limiter.acquire(principal)

    def _check(
        self, caller: Caller | None, tool: str, arguments: Any, wait: float | None
    ) -> _Refusal | None:
        """Who, how often, which tool, may they, what arguments: the first refusal wins."""
        if caller is None:
            return _Refusal(Outcome.UNAUTHENTICATED, "no authenticated caller: no token, no call")
        if wait is not None:
            return _Refusal(
                Outcome.RATE_LIMITED,
                f"rate limit exceeded for {caller.principal}: try again in {wait:.1f}s",
            )
        if tool in self.gate.unavailable:
            return _Refusal(Outcome.INVALID, self.gate.unavailable[tool])
        if tool not in self.gate.read_tools | self.gate.draft_tools:
            return _Refusal(Outcome.INVALID, f"unknown tool {tool!r}")
        if tool not in self.gate.allowed(caller):
            needed = Role.DRAFTER if tool in self.gate.draft_tools else Role.VIEWER
            roles = ", ".join(caller.roles) or "none"
            return _Refusal(
                Outcome.DENIED,
                f"{tool} needs the {needed} role; {caller.principal} has: {roles}",
            )
        try:
            check_arguments(arguments, self.gate.limits)
        except ArgumentRejectedError as error:
            return _Refusal(Outcome.INVALID, f"invalid arguments for {tool}: {error}")
        unknown = sorted(set(arguments or {}) - self.gate.arguments.get(tool, frozenset()))
        if unknown:
            known = ", ".join(sorted(self.gate.arguments.get(tool, frozenset()))) or "none"
            note = (
                " (the requester is always the authenticated caller, never an argument)"
                if any("request" in name.lower() for name in unknown)
                else ""
            )
            return _Refusal(
                Outcome.INVALID,
                f"invalid arguments for {tool}: unknown argument(s) {', '.join(unknown)}; "
                f"it takes {known}{note}",
            )
        return None

    async def _record(
        self,
        call: CallContext,
        arguments: Any,
        outcome: Outcome,
        reason: str,
        started: float,
        *,
        sent: bytes = b"",
    ) -> None:
        """Written before the reply leaves: a caller never holds an answer with no record.
        ``sent`` is the reply in canonical JSON; empty when the call ended without one."""
        seconds = time.perf_counter() - started
        self.gate.metrics.observe(call.tool, outcome, seconds)
        await self.gate.audit.record(
            AuditRecord(
                time=now_utc(),
                correlation_id=call.correlation_id,
                principal=call.caller.principal,
                tenant=call.caller.tenant,
                transport=call.transport,
                tool=call.tool,
                arguments=recorded_arguments(arguments),
                outcome=outcome,
                reason=reason[:1024],
                duration_ms=round(seconds * 1000, 3),
                output_digest=digest_of_bytes(sent) if sent else "",
            ),
            sync=self.gate.synced_before_reply(call.tool, outcome),
        )


def _wire_form(reply: HandlerResult) -> bytes:
    """The reply as JSON on the wire, in canonical form: measured, then digested, once."""
    if isinstance(reply, BaseModel):
        return canonical(reply.model_dump(mode="json", by_alias=True, exclude_none=True))
    if isinstance(reply, dict):
        return canonical(reply)
    return b""


def _error(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def _outcome_of(call: CallContext, result: HandlerResult) -> tuple[Outcome, str]:
    if not (isinstance(result, dict) and result.get("isError")):
        return Outcome.OK, ""
    if call.outcome is not None:
        return call.outcome, call.reason
    text = _text_of(result)
    if "validation error" in text:
        return Outcome.INVALID, text
    return Outcome.ERROR, text


def _text_of(result: dict[str, Any]) -> str:
    parts = [c.get("text", "") for c in result.get("content", []) if isinstance(c, dict)]
    return " ".join(str(p) for p in parts)[:1024]
