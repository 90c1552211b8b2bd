"""The call being served: its caller, correlation id and, when refused, why.

The middleware opens a :class:`CallContext` for every ``tools/call`` before the tool runs;
tool bodies read the caller from it and never from their arguments.
"""

from contextvars import ContextVar
from dataclasses import dataclass

from mcp.server.mcpserver.exceptions import ToolError

from kcr.mcp.gate.audit import Outcome
from kcr.mcp.gate.identity import Caller


class ToolDeniedError(ToolError):
    """The caller may not see or draft this (role or scope); the message says which rule."""

    outcome = Outcome.DENIED


class ToolInvalidError(ToolError):
    """The arguments are well-formed but make no sense here (no such page, bad cursor)."""

    outcome = Outcome.INVALID


class ToolFailedError(ToolError):
    """Kafka or Kubernetes answered with an error a person can act on."""

    outcome = Outcome.ERROR


@dataclass
class CallContext:
    caller: Caller
    correlation_id: str
    transport: str
    tool: str
    outcome: Outcome | None = None
    reason: str = ""

    def refuse(self, error: ToolDeniedError | ToolInvalidError | ToolFailedError) -> None:
        self.outcome = error.outcome
        self.reason = str(error)


current_call: ContextVar[CallContext | None] = ContextVar("kcr_mcp_call", default=None)


def call_in_progress() -> CallContext:
    """The call being served; outside the middleware there is none, and nothing may run."""
    call = current_call.get()
    if call is None:
        raise ToolDeniedError(
            "no authenticated caller: this server only serves calls it has checked"
        )
    return call
