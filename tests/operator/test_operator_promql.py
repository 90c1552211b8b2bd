"""PromQL health gates against a real Prometheus over its HTTP API."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka_setup import draft, prepare
from operator_harness import Harness, free_port
from prometheus_server import Exporter, exporter, prometheus

from kcr.kafka.fake import FakeCluster
from kcr.model import HealthGates, PromQLGate
from kcr.operator.prometheus import HttpPrometheus, PrometheusError

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

GATE = PromQLGate(name="topic-unhealthy", query='kcr_test_unhealthy{topic="orders"} > 0')


@pytest.fixture(scope="module")
def scraped(
    tmp_path_factory: pytest.TempPathFactory, prometheus_path: str
) -> Iterator[tuple[Exporter, str]]:
    workdir = tmp_path_factory.mktemp("prometheus")
    with (
        exporter() as served,
        prometheus(prometheus_path, served.port, free_port(), Path(workdir)) as url,
    ):
        yield served, url


async def wait_for_value(url: str, value: float) -> None:
    client = HttpPrometheus(url)
    for _ in range(100):
        samples = await client.query('kcr_test_unhealthy{topic="orders"}')
        if samples and samples[0].value == value:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"prometheus never saw kcr_test_unhealthy={value}")


async def run_with_gate(harness: Harness, fake_cluster: FakeCluster, url: str) -> dict:  # type: ignore[type-arg]
    await harness.kubectl.apply_cluster("watched", prometheusUrl=url)
    member = await prepare("AlterTopicConfig", fake_cluster)
    spec = await draft(harness.kafka, member, gates=HealthGates(promql=[GATE]))
    spec = spec.model_copy(update={"cluster": "watched"})
    await harness.start()
    await harness.kubectl.create("change", spec)
    await harness.kubectl.wait_phase("change", "AwaitingApproval")
    await harness.kubectl.approve("change", "bob")
    return await harness.kubectl.wait_phase("change", "Succeeded", "RolledBack", "RollbackFailed")


async def test_promql_gate_passes_when_nothing_is_unhealthy(
    harness: Harness, fake_cluster: FakeCluster, scraped: tuple[Exporter, str]
) -> None:
    served, url = scraped
    served.unhealthy.labels("orders").set(0)
    await wait_for_value(url, 0)
    status = await run_with_gate(harness, fake_cluster, url)
    assert status["phase"] == "Succeeded", status["message"]
    assert (
        "PromQL: ok (topic-unhealthy: no unhealthy series)"
        in status["plan"]["stages"][0]["gateResult"]
    )


async def test_promql_gate_failure_rolls_back(
    harness: Harness, fake_cluster: FakeCluster, scraped: tuple[Exporter, str]
) -> None:
    served, url = scraped
    served.unhealthy.labels("orders").set(1)
    await wait_for_value(url, 1)
    try:
        status = await run_with_gate(harness, fake_cluster, url)
    finally:
        served.unhealthy.labels("orders").set(0)
    assert status["phase"] == "RolledBack", status["message"]
    gate = status["plan"]["stages"][0]["gateResult"]
    assert "PromQL: FAILED (topic-unhealthy: 1 unhealthy series" in gate
    assert 'topic="orders"' in gate
    assert fake_cluster.topics["orders"].overrides["retention.ms"] == "86400000"


async def test_bad_promql_is_reported(scraped: tuple[Exporter, str]) -> None:
    _, url = scraped
    with pytest.raises(PrometheusError, match="bad_data") as refused:
        await HttpPrometheus(url).query("sum(")
    assert not refused.value.retriable  # the same query will be refused again


async def test_an_unreachable_prometheus_is_asked_again() -> None:
    port = free_port()  # nobody listens there
    with pytest.raises(PrometheusError, match="unreachable") as unreachable:
        await HttpPrometheus(f"http://127.0.0.1:{port}", timeout=2).query("up")
    assert unreachable.value.retriable
