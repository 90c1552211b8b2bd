"""Kafka Connect's REST API, read-only: connectors, their tasks, states and failure traces.

A sink connector consumes as the group ``connect-<name>`` (unless its config overrides the
group id); when one of its tasks has failed, that group lags with nobody to blame among the
consumers kcr otherwise sees. One request (``GET /connectors?expand=status&expand=info``)
returns every connector with its config and status.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import httpx
from pydantic import Field

from kcr.model.base import KubeModel

MAX_CONNECTORS = 500
MAX_TRACE = 2000
GROUP_OVERRIDE = "consumer.override.group.id"


class ConnectError(Exception):
    """Connect could not be read; the message says what to check."""


class ConnectorTask(KubeModel):
    id: int
    state: str = Field(description="RUNNING, FAILED, PAUSED, UNASSIGNED or RESTARTING")
    worker_id: str = ""
    trace: str | None = Field(default=None, description="The failure's stack trace, cut short")


class Connector(KubeModel):
    name: str
    type: str = Field(description="sink or source")
    state: str
    worker_id: str = ""
    topics: list[str] = Field(default_factory=list, description="What a sink reads")
    group: str | None = Field(default=None, description="The consumer group a sink commits as")
    tasks: list[ConnectorTask] = Field(default_factory=list)

    @property
    def failed_tasks(self) -> list[ConnectorTask]:
        return [t for t in self.tasks if t.state == "FAILED"]


class ConnectReport(KubeModel):
    url: str
    connectors: list[Connector]
    observed_at: datetime


class ConnectPort(Protocol):
    @property
    def url(self) -> str: ...

    async def connectors(self) -> ConnectReport: ...

    async def close(self) -> None: ...


class ConnectClient:
    """One httpx client per Connect cluster, every request bounded by ``timeout``."""

    def __init__(self, url: str, clock: Callable[[], datetime], timeout: float = 10.0) -> None:
        self._url = url.rstrip("/")
        self._clock = clock
        self._http = httpx.AsyncClient(base_url=self._url, timeout=timeout)

    @property
    def url(self) -> str:
        return self._url

    async def connectors(self) -> ConnectReport:
        try:
            response = await self._http.get(
                "/connectors", params=[("expand", "status"), ("expand", "info")]
            )
            response.raise_for_status()
            body = response.json()
        except httpx.HTTPError as error:
            raise ConnectError(
                f"Kafka Connect at {self._url} could not be read ({type(error).__name__}: "
                f"{error}); check the Connect URL and that its REST API is reachable"
            ) from None
        except ValueError:
            raise ConnectError(f"Kafka Connect at {self._url} did not answer JSON") from None
        if not isinstance(body, dict):
            raise ConnectError(f"Kafka Connect at {self._url} answered an unexpected shape")
        found = [connector_of(name, entry) for name, entry in sorted(body.items())]
        return ConnectReport(
            url=self._url, connectors=found[:MAX_CONNECTORS], observed_at=self._clock()
        )

    async def close(self) -> None:
        await self._http.aclose()


def connector_of(name: str, entry: dict[str, Any]) -> Connector:
    """One connector from the expanded listing: ``{"status": ..., "info": ...}``."""
    status = entry.get("status") or {}
    info = entry.get("info") or {}
    config: dict[str, str] = info.get("config") or {}
    kind = str(info.get("type") or status.get("type") or "unknown")
    state = status.get("connector") or {}
    return Connector(
        name=name,
        type=kind,
        state=str(state.get("state", "UNKNOWN")),
        worker_id=str(state.get("worker_id", "")),
        topics=[t.strip() for t in config.get("topics", "").split(",") if t.strip()],
        group=config.get(GROUP_OVERRIDE, f"connect-{name}") if kind == "sink" else None,
        tasks=[
            ConnectorTask(
                id=int(task.get("id", 0)),
                state=str(task.get("state", "UNKNOWN")),
                worker_id=str(task.get("worker_id", "")),
                trace=str(task["trace"])[:MAX_TRACE] if task.get("trace") else None,
            )
            for task in status.get("tasks") or []
        ],
    )
