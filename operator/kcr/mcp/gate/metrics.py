"""Prometheus metrics of the MCP server: calls and latency per tool and outcome.

Labels are bounded: the tool label is one of the server's own tool names (anything else
is counted as ``unknown``) and the outcome is one of :class:`Outcome`.
"""

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from kcr.mcp.gate.audit import Outcome

UNKNOWN_TOOL = "unknown"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ToolMetrics:
    def __init__(self, tools: Iterable[str], registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._tools = frozenset(tools)
        self.calls = Counter(
            "kcr_mcp_tool_calls",
            "MCP tool calls by tool and outcome",
            ["tool", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kcr_mcp_tool_duration_seconds",
            "MCP tool call latency by tool and outcome",
            ["tool", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

        self._series: dict[tuple[str, Outcome], tuple[Counter, Histogram]] = {}

    def observe(self, tool: str, outcome: Outcome, seconds: float) -> None:
        calls, latency = self._series_of(tool, outcome)
        calls.inc()
        latency.observe(seconds)

    def _series_of(self, tool: str, outcome: Outcome) -> tuple[Counter, Histogram]:
        """Each label pair's series, looked up once: ``labels()`` takes a lock every call."""
        label = tool if tool in self._tools else UNKNOWN_TOOL
        series = self._series.get((label, outcome))
        if series is None:
            series = (
                self.calls.labels(tool=label, outcome=outcome.value),
                self.latency.labels(tool=label, outcome=outcome.value),
            )
            self._series[(label, outcome)] = series
        return series

    def count(self, tool: str, outcome: Outcome) -> float:
        value = self.registry.get_sample_value(
            "kcr_mcp_tool_calls_total", {"tool": tool, "outcome": outcome.value}
        )
        return value or 0.0

    def serve(self, host: str, port: int) -> None:
        """Expose ``/metrics`` on its own listener (a daemon thread)."""
        start_http_server(port, addr=host, registry=self.registry)
