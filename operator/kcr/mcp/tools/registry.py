"""Registering the tool functions with the MCP server: names, annotations, error mapping.

Each tool is a plain ``async def tool(env, **arguments)``; the adapter gives the SDK a
function with the same arguments plus the SDK's ``Context``, builds the ``ToolEnv`` from
the checked call, and turns Kafka and Kubernetes failures into tool errors that say what
went wrong (and are audited as such).
"""

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations

from kcr.kafka import KafkaPortError, NotFoundError
from kcr.kube.errors import KubeError
from kcr.mcp.gate.calls import ToolDeniedError, ToolFailedError, ToolInvalidError, call_in_progress
from kcr.mcp.paging import CursorError
from kcr.mcp.services import Services
from kcr.mcp.tools import (
    access,
    cluster,
    connectors,
    deployments,
    draft_tools,
    explain,
    groups,
    incident_tools,
    metrics,
    moves,
    quotas,
    rebalance,
    requests,
    runbook_tools,
    schema_tools,
    strimzi_tools,
)
from kcr.mcp.tools.env import ToolEnv

ToolFunction = Callable[..., Awaitable[Any]]

log = logging.getLogger(__name__)

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)
DRAFT = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)


@dataclass(frozen=True)
class ToolSpec:
    function: ToolFunction
    title: str
    annotations: ToolAnnotations
    needs_kube: bool = False
    """Reads the Kubernetes API: not offered by a server started without one."""

    @property
    def name(self) -> str:
        return self.function.__name__


READ_TOOLS = (
    ToolSpec(cluster.cluster_overview, "Cluster overview", READ),
    ToolSpec(cluster.list_topics, "List topics", READ),
    ToolSpec(cluster.describe_topic, "Describe a topic", READ),
    ToolSpec(groups.consumer_lag, "Consumer lag", READ),
    ToolSpec(groups.describe_consumer_group, "Describe a consumer group", READ),
    ToolSpec(cluster.partition_skew, "Partition skew per broker", READ),
    ToolSpec(cluster.broker_health, "Broker health", READ),
    ToolSpec(moves.list_reassignments, "Reassignments in progress", READ),
    ToolSpec(quotas.describe_quotas, "Client quotas", READ),
    ToolSpec(connectors.connector_status, "Kafka Connect connectors and tasks", READ),
    ToolSpec(metrics.broker_metrics, "Broker metrics (Prometheus)", READ),
    ToolSpec(schema_tools.schema_history, "Schema versions of a topic", READ),
    ToolSpec(schema_tools.check_schema_compatibility, "Check a schema against the registry", READ),
    ToolSpec(groups.recent_rebalances, "Recent rebalances", READ),
    ToolSpec(runbook_tools.search_runbooks, "Search runbooks", READ),
    ToolSpec(runbook_tools.fetch_runbook_section, "Fetch a runbook section", READ),
    ToolSpec(incident_tools.search_incidents, "Search past incidents", READ),
    ToolSpec(access.check_access, "Check access (ACLs)", READ),
    ToolSpec(deployments.recent_deployments, "Recent deployments", READ, needs_kube=True),
    ToolSpec(strimzi_tools.strimzi_drift, "Drift from Strimzi's resources", READ, needs_kube=True),
    ToolSpec(explain.explain_current_state, "Explain the current state", READ),
    ToolSpec(requests.list_change_requests, "List change requests", READ, needs_kube=True),
    ToolSpec(requests.get_change_request, "Get a change request", READ, needs_kube=True),
)

DRAFT_TOOLS = (
    # A drafter's tool (it shows what a draft would be) that changes nothing.
    ToolSpec(draft_tools.preview_change, "Preview a change (dry run)", READ),
    ToolSpec(draft_tools.draft_create_topic, "Draft: create a topic", DRAFT),
    ToolSpec(draft_tools.draft_increase_partitions, "Draft: increase partitions", DRAFT),
    ToolSpec(draft_tools.draft_alter_topic_config, "Draft: alter topic config", DRAFT),
    ToolSpec(
        draft_tools.draft_reset_consumer_group_offsets,
        "Draft: reset consumer group offsets",
        DRAFT,
    ),
    ToolSpec(draft_tools.draft_alter_acls, "Draft: alter ACLs", DRAFT),
    ToolSpec(draft_tools.draft_delete_topic, "Draft: delete a topic", DRAFT),
    ToolSpec(draft_tools.draft_reassign_partitions, "Draft: move replicas", DRAFT),
    ToolSpec(draft_tools.draft_elect_leaders, "Draft: elect preferred leaders", DRAFT),
    ToolSpec(draft_tools.draft_alter_client_quotas, "Draft: alter client quotas", DRAFT),
    # YAML for a pull request only: kcr writes no KafkaRebalance and annotates none.
    ToolSpec(rebalance.draft_kafka_rebalance, "Draft: KafkaRebalance (Cruise Control)", READ),
    ToolSpec(
        draft_tools.draft_restart_workload,
        "Draft: restart a group's Deployment",
        DRAFT,
        needs_kube=True,
    ),
)


def as_mcp_tool(function: ToolFunction, services: Services) -> ToolFunction:
    """The SDK sees the tool's own arguments (schemas from the model types) plus ``ctx``."""
    signature = inspect.signature(function, eval_str=True)
    parameters = list(signature.parameters.values())
    if not parameters or parameters[0].name != "env":
        raise TypeError(f"{function.__name__} must take env: ToolEnv first")
    context = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)
    exposed = [*parameters[1:], context]

    @functools.wraps(function)
    async def tool(*, ctx: Context, **arguments: Any) -> Any:
        call = call_in_progress()
        env = ToolEnv(services=services, call=call)
        try:
            return await function(env, **arguments)
        except (ToolDeniedError, ToolInvalidError, ToolFailedError) as error:
            call.refuse(error)
            raise
        except CursorError as error:
            raise _refused(call, ToolInvalidError(str(error))) from None
        except NotFoundError as error:
            raise _refused(call, ToolInvalidError(error.message)) from None
        except KafkaPortError as error:
            raise _refused(call, ToolFailedError(f"Kafka: {error.message}")) from None
        except KubeError as error:
            raise _refused(call, ToolFailedError(f"Kubernetes: {error}")) from None
        except Exception as error:
            # A defect, not the caller's doing: the traceback goes to the log under the
            # call's correlation id; the caller learns only that it failed (no internals).
            log.exception(
                "tool failed unexpectedly",
                extra={"tool": call.tool, "correlationId": call.correlation_id},
            )
            failed = ToolFailedError(
                f"{call.tool} failed unexpectedly ({type(error).__name__}); the server logged "
                f"the details under correlation id {call.correlation_id}"
            )
            raise _refused(call, failed) from None

    del tool.__wrapped__  # the SDK must read the signature below, not the function's own
    tool.__signature__ = signature.replace(parameters=exposed)  # type: ignore[attr-defined]
    tool.__annotations__ = {p.name: p.annotation for p in exposed} | {
        "return": signature.return_annotation
    }
    return tool


def _refused(call: Any, error: ToolDeniedError | ToolInvalidError | ToolFailedError) -> Exception:
    call.refuse(error)
    return error


def unavailable_tools(services: Services) -> dict[str, str]:
    """Tools that cannot work on this server, each with what it would need."""
    if services.kube is not None:
        return {}
    return {
        spec.name: f"{spec.name} reads the Kubernetes API, and this server was started "
        "without one: give kcr mcp a kubeconfig (--kubeconfig) to use it"
        for spec in (*READ_TOOLS, *DRAFT_TOOLS)
        if spec.needs_kube
    }


def register_tools(server: MCPServer[Any], services: Services) -> None:
    """A tool that cannot work here is not offered, so the assistant never plans with it."""
    hidden = unavailable_tools(services)
    for spec in (*READ_TOOLS, *DRAFT_TOOLS):
        if spec.name in hidden:
            continue
        server.add_tool(
            as_mcp_tool(spec.function, services),
            name=spec.name,
            title=spec.title,
            description=inspect.getdoc(spec.function),
            annotations=spec.annotations,
            structured_output=True,
        )


def tool_names() -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(s.name for s in READ_TOOLS), frozenset(s.name for s in DRAFT_TOOLS)


def tool_arguments() -> dict[str, frozenset[str]]:
    """Each tool's argument names: anything else is refused, never silently ignored."""
    return {
        spec.name: frozenset(list(inspect.signature(spec.function).parameters)[1:])
        for spec in (*READ_TOOLS, *DRAFT_TOOLS)
    }
