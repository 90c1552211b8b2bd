"""The Prometheus port: instant PromQL queries for health gates, over the HTTP API.

A gate query is written alert-style: it selects what is unhealthy, so any returned series
fails the gate. The HTTP implementation speaks ``/api/v1/query`` and nothing else.
"""

from dataclasses import dataclass
from typing import Any, Protocol

import httpx


class PrometheusError(RuntimeError):
    """The query could not be evaluated: unreachable server, bad PromQL, or a bad answer."""

    def __init__(self, message: str, *, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable
        """The server could not be asked or could not answer now (unreachable, 5xx,
        timeout): asking again may work. A refused query will be refused again."""


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float

    def describe(self) -> str:
        name = self.labels.get("__name__", "")
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()) if k != "__name__")
        return f"{name}{{{labels}}} = {self.value:g}"


class PrometheusPort(Protocol):
    async def query(self, expression: str) -> list[Sample]: ...


class HttpPrometheus:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout

    async def query(self, expression: str) -> list[Sample]:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(
                    f"{self.url}/api/v1/query", params={"query": expression}
                )
        except httpx.HTTPError as error:
            raise PrometheusError(
                f"Prometheus at {self.url} is unreachable: {error}", retriable=True
            ) from error
        try:
            body: dict[str, Any] = response.json()
        except ValueError as error:
            raise PrometheusError(
                f"Prometheus at {self.url} answered HTTP {response.status_code} without JSON",
                retriable=response.status_code >= 500,
            ) from error
        if body.get("status") != "success":
            raise PrometheusError(
                f"Prometheus refused {expression!r}: {body.get('errorType', 'error')}: "
                f"{body.get('error', response.text[:300])}",
                retriable=response.status_code >= 500,
            )
        return parse_result(body.get("data") or {})


def parse_result(data: dict[str, Any]) -> list[Sample]:
    kind = data.get("resultType")
    result = data.get("result")
    if kind == "scalar" and isinstance(result, list):
        return [Sample({}, float(result[1]))]
    if kind != "vector" or not isinstance(result, list):
        raise PrometheusError(f"expected an instant vector, got resultType {kind!r}")
    return [Sample(dict(item.get("metric") or {}), float(item["value"][1])) for item in result]
