"""A real Prometheus, the exporters it scrapes and the MCP server reading it, for the broker
metrics tests.

Both listen on free 127.0.0.1 ports, are waited for with a bound, and are stopped by pid.
Each scrape target carries a ``broker`` label, as a scrape configuration's relabelling
would set it on a broker's JMX exporter and on the node exporter of its host.
"""

import contextlib
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
from mcp_support import Built, build

from kcr.embedded.jmx import MetricsAgents
from kcr.embedded.kraft import KraftCluster, running_cluster, stop_process
from kcr.embedded.prometheus import Jobs
from kcr.embedded.prometheus import running_prometheus as embedded_prometheus
from kcr.embedded.tansu import free_port
from kcr.kafka.connect import open_kafka
from kcr.kafka.settings import ClientSettings
from kcr.mcp.diagnosis import Thresholds
from kcr.mcp.prometheus import PrometheusClient

TIMEOUT = 120.0


def wait_until(check: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(0.5)


def has_result(url: str, query: str) -> bool:
    try:
        body = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return False
    return bool(body.get("data", {}).get("result"))


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def running_node_exporter(binary: str, workdir: Path) -> Iterator[int]:
    """The node exporter with its filesystem collector only; yields its port."""
    port = free_port()
    with (workdir / "node-exporter.log").open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                "--collector.disable-defaults",
                "--collector.filesystem",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/metrics"), "the node exporter")
        yield port
    finally:
        stop_process(process)


@contextlib.contextmanager
def running_prometheus(binary: str, jobs: Jobs, ready_query: str) -> Iterator[str]:
    """kcr's embedded Prometheus scraping ``jobs``; yields its URL once ``ready_query`` has
    a result (the metric a test reads, not only the targets being up)."""
    with embedded_prometheus(jobs, binary=binary) as prometheus:
        wait_until(
            lambda: has_result(prometheus.url, ready_query), f"Prometheus answering {ready_query}"
        )
        yield prometheus.url


@contextlib.contextmanager
def metered_cluster(
    jmx_agent_jar: str, nodes: int
) -> Iterator[tuple[KraftCluster, dict[int, int]]]:
    """Apache Kafka brokers with the JMX exporter agent; each one's metrics port by node id."""
    agents = MetricsAgents(jmx_agent_jar)
    with running_cluster(nodes, java_agent=agents) as cluster:
        yield cluster, agents.ports


@contextlib.asynccontextmanager
async def serving_metrics(cluster: KraftCluster, prometheus_url: str) -> AsyncIterator[Built]:
    """The MCP server reading ``cluster`` and its Prometheus, over a two-minute window."""
    kafka = open_kafka(
        cluster.spec(), cluster.credentials(), settings=ClientSettings(request_timeout=10)
    )
    prometheus = PrometheusClient(prometheus_url)
    try:
        yield build(kafka, prometheus=prometheus, thresholds=Thresholds(metrics_window_minutes=2))
    finally:
        await prometheus.close()
        await kafka.close()
