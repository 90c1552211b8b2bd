"""``connector_status``: Kafka Connect's connectors and tasks, within the caller's scope."""

from typing import Annotated

from pydantic import Field

from kcr.mcp.connect import ConnectError, Connector, ConnectReport
from kcr.mcp.evidence import group_subject
from kcr.mcp.gate.calls import ToolFailedError, ToolInvalidError
from kcr.mcp.gate.identity import Scope
from kcr.mcp.tools.env import ToolEnv
from kcr.model import Evidence, EvidenceKind, TimeWindow

ConnectorName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=249,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="A connector's name, as Kafka Connect lists it",
    ),
]


def visible(connector: Connector, scope: Scope) -> bool:
    """A sink is the tenant's when its consumer group is in scope; a source is shown only to
    unrestricted callers (what it writes is in its own config, not checked here)."""
    if scope.unrestricted:
        return True
    return connector.group is not None and scope.allows_group(connector.group)


async def read_connect(env: ToolEnv) -> ConnectReport:
    connect = env.services.connect
    if connect is None:
        raise ToolInvalidError(
            "Kafka Connect is not configured for this server: set the KafkaCluster's "
            "connectUrl or start kcr mcp with --connect-url"
        )
    try:
        return await connect.connectors()
    except ConnectError as error:
        raise ToolFailedError(str(error)) from None


async def connector_status(env: ToolEnv, connector: ConnectorName | None = None) -> ConnectReport:
    """Connectors (sink or source), their state and each task's state, worker and failure
    trace; a sink's consumer group is named, to join with consumer_lag."""
    report = await read_connect(env)
    shown = [
        c
        for c in report.connectors
        if visible(c, env.scope) and (connector is None or c.name == connector)
    ]
    if connector is not None and not shown:
        raise ToolInvalidError(
            f"no connector `{connector}` in your scope at {report.url}; "
            "call connector_status without a name to list them"
        )
    for item in shown:
        if item.group is not None:
            env.remember(
                {group_subject(item.group)},
                [
                    Evidence(
                        kind=EvidenceKind.CONNECTOR,
                        source=f"kafka-connect {report.url}: GET /connectors?expand=status"[:256],
                        query=f"connector_status connector={item.name}",
                        observed_value=(
                            f"connector {item.name} {item.state}; tasks "
                            + ", ".join(f"{t.id} {t.state}" for t in item.tasks)
                        )[:4096],
                        time_window=TimeWindow.at(report.observed_at),
                        captured_at=report.observed_at,
                    )
                ],
            )
    return report.model_copy(update={"connectors": shown})
