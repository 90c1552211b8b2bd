"""Disk pressure from real data: the node exporter reports the filesystem of the broker's
log dir, a real Prometheus scrapes it, and the finding follows the threshold.

The node exporter runs with its filesystem collector only and is scraped with the label
``broker="1"``, as it would be on the broker's host. The test reads the same filesystem
with ``statvfs`` and sets one threshold below its real use and one above.
"""

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from mcp import Client
from mcp_support import Built, build, structured
from scraping import TIMEOUT, running_node_exporter, running_prometheus

from kcr.embedded.kraft import KraftCluster
from kcr.kafka.connect import open_kafka
from kcr.kafka.settings import ClientSettings
from kcr.mcp.diagnosis import Thresholds
from kcr.mcp.prometheus import PrometheusClient

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]


def mount_of(path: Path) -> str:
    """The mount point holding ``path``, as the node exporter names it."""
    path = path.resolve()
    while not os.path.ismount(path):
        path = path.parent
    return str(path)


def used_fraction(path: Path) -> float:
    """What the node exporter computes from: blocks available to users over all blocks."""
    stat = os.statvfs(path)
    return 1.0 - stat.f_bavail / stat.f_blocks


@pytest.fixture(scope="module")
def log_dir(apache_kafka: KraftCluster) -> Path:
    return apache_kafka.nodes[0].directory / "data"


@pytest.fixture(scope="module")
def prometheus_url(
    apache_kafka: KraftCluster,
    log_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    prometheus_path: str,
    node_exporter_path: str,
) -> Iterator[str]:
    workdir = Path(tmp_path_factory.mktemp("node-prometheus"))
    ready = f'node_filesystem_avail_bytes{{mountpoint="{mount_of(log_dir)}"}}'
    with (
        running_node_exporter(node_exporter_path, workdir) as port,
        running_prometheus(prometheus_path, {"node": {1: port}}, ready) as url,
    ):
        yield url


@pytest.fixture
def server(
    apache_kafka: KraftCluster, prometheus_url: str, log_dir: Path
) -> Callable[[float], AbstractAsyncContextManager[Built]]:
    @asynccontextmanager
    async def make(threshold: float) -> AsyncIterator[Built]:
        kafka = open_kafka(
            apache_kafka.spec(),
            apache_kafka.credentials(),
            settings=ClientSettings(request_timeout=10),
        )
        prometheus = PrometheusClient(prometheus_url)
        thresholds = Thresholds(
            metrics_window_minutes=2,
            log_dir_mountpoint=mount_of(log_dir),
            disk_pressure_used_fraction=threshold,
        )
        try:
            yield build(kafka, prometheus=prometheus, thresholds=thresholds)
        finally:
            await prometheus.close()
            await kafka.close()

    return make


async def _diagnosis(built: Built, topic: str) -> dict[str, Any]:
    """The diagnosis once Prometheus has a sample of the log dir's filesystem."""
    async with Client(built.mcp) as client:
        deadline = time.monotonic() + TIMEOUT
        while True:
            reading = structured(
                await client.call_tool("broker_metrics", {"family": "log_dir_disk_used"})
            )
            if any(s["points"] for s in reading["series"]) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        return structured(await client.call_tool("explain_current_state", {"topic": topic}))


async def test_a_log_dir_filesystem_above_the_threshold_is_disk_pressure(
    server: Callable[[float], AbstractAsyncContextManager[Built]],
    apache_kafka: KraftCluster,
    log_dir: Path,
    unique: str,
) -> None:
    topic = f"{unique}.stored"
    admin = AdminClient(apache_kafka.client_config())
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
    used = used_fraction(log_dir)
    assert 0.0 < used < 1.0
    mount = mount_of(log_dir)

    async with server(used / 2) as built:
        crossed = await _diagnosis(built, topic)
    async with server((used + 1.0) / 2) as built:
        below = await _diagnosis(built, topic)

    pressure = [f for f in crossed["findings"] if f["kind"] == "DiskPressure"]
    assert len(pressure) == 1, crossed
    (finding,) = pressure
    assert finding["subject"] == "broker/1"
    assert finding["severity"] == "High"
    assert f"({mount})" in finding["summary"]
    assert f"{used / 2:.1%} threshold" in finding["summary"]
    (evidence,) = finding["evidence"]
    assert evidence["kind"] == "Metric"
    assert evidence["source"].startswith("prometheus http://127.0.0.1:")
    assert evidence["query"] == (
        f'max by (broker, mountpoint) (1 - node_filesystem_avail_bytes{{mountpoint="{mount}"}} '
        f'/ node_filesystem_size_bytes{{mountpoint="{mount}"}})'
    )
    assert evidence["observedValue"].startswith(f"broker=1,mountpoint={mount}: min ")
    last = float(evidence["observedValue"].split("last ")[1].split(" ")[0])
    assert abs(last - used) < 0.01  # the same filesystem, read by the node exporter
    window = evidence["timeWindow"]
    assert window["end"] == evidence["capturedAt"]
    assert window["start"] < window["end"]
    assert finding["runbook"] == {
        "runbook": "disk-pressure",
        "section": "diagnose",
        "title": "Disk pressure",
    }

    assert "DiskPressure" not in [f["kind"] for f in below["findings"]], below
