"""What the operator tells the outside: /metrics, /healthz, Events and JSON log lines."""

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kafka_setup import draft, prepare
from operator_harness import Harness, fast_config, free_port
from prometheus_client.parser import text_string_to_metric_families
from prometheus_server import prometheus

from kcr.kafka.fake import FakeCluster
from kcr.operator.logs import configure_logging
from kcr.operator.prometheus import HttpPrometheus
from kcr.operator.settings import LogFormat

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

SERIES = {
    "kcr_requests": {"phase", "kind", "risk"},
    "kcr_request_phase_age_seconds": {"phase"},
    "kcr_transitions": {"from_phase", "to_phase", "reason"},
    "kcr_step_duration_seconds": {"operation", "direction", "outcome"},
    "kcr_gate_duration_seconds": {"outcome"},
    "kcr_gate_failures": {"check"},
    "kcr_rollbacks": {"outcome", "trigger"},
    "kcr_approval_wait_seconds": {"risk"},
    "kcr_kafka_call_duration_seconds": {"call", "outcome"},
}


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(family.name, []).append((dict(sample.labels), sample.value))
    return found


async def test_metrics_and_health_endpoints(harness: Harness, fake_cluster: FakeCluster) -> None:
    metrics_port, health_port = free_port(), free_port()
    config = fast_config(metrics_port=metrics_port, health_port=health_port)
    member = await prepare("AlterTopicConfig", fake_cluster)
    ok = await draft(harness.kafka, member)
    await harness.start(config)
    await harness.kubectl.create("good", ok)
    await harness.kubectl.wait_phase("good", "AwaitingApproval")
    await harness.kubectl.approve("good", "bob")
    await harness.kubectl.wait_phase("good", "Succeeded")
    fake_cluster.take_offline("orders", 0)
    await harness.kubectl.ask_rollback("good", "dave")
    await harness.kubectl.approve_rollback("good", "bob", "carol")
    await harness.kubectl.wait_phase("good", "RolledBack")
    bad = (await draft(harness.kafka, member)).model_copy(update={"reason": "second try"})
    await harness.kubectl.create("bad", bad)
    await harness.kubectl.wait_phase("bad", "AwaitingApproval")
    await harness.kubectl.approve("bad", "bob")
    await harness.kubectl.wait_phase("bad", "RolledBack", "Failed")

    async with httpx.AsyncClient() as client:
        for _ in range(100):  # metrics follow the status write, from the operator's thread
            metrics = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
            if 'kcr_rollbacks_total{outcome="RolledBack",trigger="automatic"} 1.0' in metrics:
                break
            await asyncio.sleep(0.02)
        health = await client.get(f"http://127.0.0.1:{health_port}/healthz")

    found = samples(metrics)
    for name, labels in SERIES.items():
        assert name in found, f"{name} missing from /metrics"
        assert any(set(lbls) >= labels for lbls, _ in found[name]), (name, found[name][:3])
    assert ({"phase": "RolledBack", "kind": "AlterTopicConfig", "risk": "MEDIUM"}, 2.0) in found[
        "kcr_requests"
    ]
    transitions = {(s["from_phase"], s["to_phase"]) for s, v in found["kcr_transitions"] if v}
    assert {("AwaitingApproval", "Approved"), ("Executing", "Succeeded")} <= transitions
    rollbacks = {(s["outcome"], s["trigger"]): v for s, v in found["kcr_rollbacks"]}
    assert rollbacks[("RolledBack", "manual")] == 1
    assert rollbacks[("RolledBack", "automatic")] == 1
    failures = {s["check"]: v for s, v in found["kcr_gate_failures"]}
    assert failures["OfflinePartitions"] >= 1
    calls = {s["call"] for s, _ in found["kcr_kafka_call_duration_seconds"]}
    assert {"observe_topic", "set_topic_config", "probe_offline_partitions"} <= calls
    assert health.status_code == 200
    assert "requests" in health.json()


async def test_prometheus_scrapes_the_operator(
    harness: Harness, fake_cluster: FakeCluster, tmp_path: Path, prometheus_path: str
) -> None:
    metrics_port = free_port()
    member = await prepare("CreateTopic", fake_cluster)
    await harness.start(fast_config(metrics_port=metrics_port))
    await harness.kubectl.create("scraped", await draft(harness.kafka, member))
    await harness.kubectl.wait_phase("scraped", "AwaitingApproval")
    await harness.kubectl.approve("scraped", "bob")
    await harness.kubectl.wait_phase("scraped", "Succeeded")

    query = 'sum(kcr_transitions_total{to_phase="Succeeded"})'
    with prometheus(prometheus_path, metrics_port, free_port(), tmp_path, ready_query=query) as url:
        samples = await HttpPrometheus(url).query(query)
        phases = await HttpPrometheus(url).query('kcr_requests{phase="Succeeded"}')
    assert [s.value for s in samples] == [1.0]
    assert [(s.labels["kind"], s.labels["risk"], s.value) for s in phases] == [
        ("CreateTopic", "LOW", 1.0)
    ]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    configure_logging("INFO", LogFormat.JSON, stream)
    try:
        yield stream
    finally:
        root.handlers, level = saved
        root.setLevel(level)


async def test_json_logs_carry_name_and_correlation_id(
    harness: Harness, fake_cluster: FakeCluster, json_log: io.StringIO
) -> None:
    member = await prepare("CreateTopic", fake_cluster)
    await harness.start()
    await harness.kubectl.create("logged", await draft(harness.kafka, member))
    await harness.kubectl.wait_phase("logged", "AwaitingApproval")
    await harness.kubectl.approve("logged", "bob")
    await harness.kubectl.wait_phase("logged", "Succeeded")

    for _ in range(100):  # the line follows the status write, from the operator's thread
        lines = [json.loads(line) for line in json_log.getvalue().splitlines() if line.strip()]
        mine = [line for line in lines if line.get("name") == "logged"]
        if any(line.get("reason") == "Succeeded" for line in mine):
            break
        await asyncio.sleep(0.05)
    assert {line["reason"] for line in mine if "reason" in line} >= {
        "Validated",
        "Approved",
        "ExecutionStarted",
        "Succeeded",
    }
    assert all(line["correlation_id"] == "corr-42" for line in mine)
    assert all(line["namespace"] == "team-a" and line["level"] for line in mine)
    assert any(line.get("logger", "").startswith("kopf") for line in lines)


async def test_every_transition_posts_an_event_with_its_reason(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    member = await prepare("CreateTopic", fake_cluster)
    await harness.start()
    await harness.kubectl.create("evented", await draft(harness.kafka, member))
    await harness.kubectl.wait_phase("evented", "AwaitingApproval")
    await harness.kubectl.approve("evented", "bob")
    status = await harness.kubectl.wait_phase("evented", "Succeeded")

    history = [h["reason"] for h in status["history"]]
    events = await harness.kubectl.events_with("evented", *history)
    reasons = [e["reason"] for e in events]
    assert all(reason in reasons for reason in history)
    assert all(e["involvedObject"]["kind"] == "KafkaChangeRequest" for e in events)
