"""Range queries against the KafkaCluster's Prometheus (``/api/v1/query_range``), bounded.

The MCP server only ever sends the PromQL of :mod:`kcr.mcp.broker_metrics`, built from
typed arguments; answers are cut to a bounded number of series and points.
"""

import math
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from pydantic import Field

from kcr.model.base import KubeModel

MAX_SERIES = 50
MAX_POINTS = 240


class PrometheusError(Exception):
    """The range could not be read; the message says what to check."""


class MetricPoint(KubeModel):
    at: datetime
    value: float


class MetricSeries(KubeModel):
    labels: dict[str, str] = Field(description="broker, and topic where the family has one")
    points: list[MetricPoint]

    @property
    def values(self) -> list[float]:
        return [p.value for p in self.points]


class PrometheusPort(Protocol):
    @property
    def url(self) -> str: ...

    async def query_range(
        self, query: str, start: datetime, end: datetime, step_seconds: int
    ) -> list[MetricSeries]: ...

    async def close(self) -> None: ...


class PrometheusClient:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self._url = url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self._url, timeout=timeout)

    @property
    def url(self) -> str:
        return self._url

    async def query_range(
        self, query: str, start: datetime, end: datetime, step_seconds: int
    ) -> list[MetricSeries]:
        params = {
            "query": query,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": str(step_seconds),
        }
        try:
            response = await self._http.get("/api/v1/query_range", params=params)
            body: dict[str, Any] = response.json()
        except httpx.HTTPError as error:
            raise PrometheusError(
                f"Prometheus at {self._url} is unreachable ({type(error).__name__}); check "
                "the KafkaCluster's prometheusUrl or --prometheus-url"
            ) from None
        except ValueError:
            raise PrometheusError(
                f"Prometheus at {self._url} answered HTTP {response.status_code} without JSON"
            ) from None
        if body.get("status") != "success":
            raise PrometheusError(
                f"Prometheus refused the query: {body.get('errorType', 'error')}: "
                f"{str(body.get('error', ''))[:300]}"
            )
        return parse_matrix(body.get("data") or {})

    async def close(self) -> None:
        await self._http.aclose()


def parse_matrix(data: dict[str, Any]) -> list[MetricSeries]:
    if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
        raise PrometheusError(f"expected a range matrix, got {data.get('resultType')!r}")
    found = []
    for item in data["result"][:MAX_SERIES]:
        points = [
            MetricPoint(at=datetime.fromtimestamp(float(at), UTC), value=float(value))
            for at, value in item.get("values", [])[-MAX_POINTS:]
            if math.isfinite(float(value))
        ]
        labels = {k: str(v) for k, v in (item.get("metric") or {}).items() if k != "__name__"}
        found.append(MetricSeries(labels=labels, points=points))
    return found
