"""``kcr mcp --transport stdio`` as a subprocess, driven by the SDK's stdio client.

The identity is the configured principal; drafts come back as YAML (``--drafts yaml``),
the GitOps path, and every call is in the audit log file.
"""

import json
import os
import selectors
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp import Client, StdioServerParameters
from mcp_servers import KCR, Emulated
from mcp_support import (
    BILLING_COMMITTED,
    NAMESPACE,
    PAYMENTS_PER_PARTITION,
    Incident,
    error_text,
    structured,
)
from mcp_types import LATEST_PROTOCOL_VERSION

from kcr.kube.resources import KAFKA_CLUSTERS
from kcr.mcp.kube_client import open_kube
from kcr.mcp.tools.registry import DRAFT_TOOLS, READ_TOOLS

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]


def stdio(bootstrap: str, audit_log: Path, *extra: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=KCR[0],
        args=[
            "mcp",
            "--transport=stdio",
            f"--kafka-bootstrap={bootstrap}",
            "--drafts=yaml",
            "--cluster=prod",
            "--namespace=kafka",
            "--sample-interval=0",
            f"--audit-log={audit_log}",
            *extra,
        ],
        env={"KUBECONFIG": str(audit_log.parent / "no-kubeconfig")},
    )


async def test_stdio_reads_and_drafts_as_the_configured_principal(
    kafka_bootstrap: str, incident: Incident, tmp_path: Path
) -> None:
    audit_log = tmp_path / "audit.jsonl"
    params = stdio(
        kafka_bootstrap,
        audit_log,
        "--principal=dave",
        "--kubernetes-user=oidc:dave",
        "--role=viewer",
        "--role=drafter",
        "--tenant=team-d",
    )
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        lag = structured(await client.call_tool("consumer_lag", {"group": incident.orders_group}))
        draft = structured(
            await client.call_tool(
                "draft_alter_topic_config",
                {
                    "topics": [incident.payments],
                    "set": {"retention.ms": "172800000"},
                    "reason": "billing needs two days to catch up",
                },
            )
        )
        injected = await client.call_tool("describe_topic", {"topic": "$(reboot)"})
    offered = [s.name for s in (*READ_TOOLS, *DRAFT_TOOLS) if not s.needs_kube]
    assert sorted(t.name for t in tools) == sorted(offered), "none that reads Kubernetes"
    partitions = lag["groups"][0]["topics"][0]["partitions"]
    assert {p["partition"]: p["lag"] for p in partitions} == incident.orders_log_end
    document = yaml.safe_load(draft["yaml"])
    assert document["kind"] == "KafkaChangeRequest"
    assert document["metadata"] == {
        "name": draft["name"],
        "namespace": "kafka",
        "annotations": {},
        "labels": {"app.kubernetes.io/managed-by": "kcr-mcp", "kcr.dev/channel": "gitops"},
    }
    assert document["spec"]["requestedBy"]["principal"] == "oidc:dave"
    assert document["spec"]["requestedBy"]["channel"] == "gitops"  # applied from git
    assert document["spec"]["requestedBy"]["tenant"] == "team-d"
    observed = document["spec"]["observed"]["topics"][0]
    assert (observed["name"], observed["exists"], observed["partitions"]) == (
        incident.payments,
        True,
        2,
    )
    assert sorted(document["spec"]["observed"]["consumersOfTopics"]) == sorted(
        [incident.billing_group, incident.idle_group]
    )
    assert "shell syntax" in error_text(injected)
    records = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert [(r["principal"], r["tool"], r["outcome"]) for r in records] == [
        ("dave", "consumer_lag", "ok"),
        ("dave", "draft_alter_topic_config", "ok"),
        ("dave", "describe_topic", "invalid"),
    ]
    assert records[1]["correlationId"] == document["spec"]["requestedBy"]["correlationId"]


async def test_stdio_viewer_may_not_draft(kafka_bootstrap: str, tmp_path: Path) -> None:
    audit_log = tmp_path / "audit.jsonl"
    async with Client(stdio(kafka_bootstrap, audit_log, "--principal=erin")) as client:
        refused = await client.call_tool(
            "draft_delete_topic", {"topic": "anything", "reason": "tidy up old topics"}
        )
        on_disk_at_reply = audit_log.read_text().splitlines()
        served = structured(await client.call_tool("cluster_overview", {}))
    assert "draft_delete_topic needs the drafter role; erin has: viewer" in error_text(refused)
    assert served["brokers"]
    (record, _) = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert (record["principal"], record["outcome"]) == ("erin", "denied")
    assert [json.loads(line)["hash"] for line in on_disk_at_reply] == [record["hash"]]
    assert_intact(audit_log, records=2)


async def test_kafka_policy_and_owners_come_from_the_kafkacluster(
    kafka_bootstrap: str, incident: Incident, emulator: Emulated, tmp_path: Path
) -> None:
    prefix = incident.orders.rsplit(".", 1)[0] + "."
    cluster = {
        "apiVersion": "kcr.dev/v1alpha1",
        "kind": "KafkaCluster",
        "metadata": {"name": "incident-cluster", "namespace": NAMESPACE},
        "spec": {
            "bootstrapServers": kafka_bootstrap,
            "ownership": [
                {
                    "team": "payments-team",
                    "contact": "#payments-oncall",
                    "topicPrefixes": [prefix],
                    "groupPrefixes": [prefix],
                }
            ],
            "policy": {"limits": {"maxPartitions": 4}},
        },
    }
    kube = open_kube(str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        await kube.client.create(
            KAFKA_CLUSTERS.path(NAMESPACE), cluster, "creating KafkaCluster incident-cluster"
        )
    finally:
        await kube.close()
    params = StdioServerParameters(
        command=KCR[0],
        args=[
            "mcp",
            "--cluster=incident-cluster",
            "--drafts=yaml",
            "--role=drafter",
            "--kubernetes-user=oidc:erin",
            "--sample-interval=0",
            f"--audit-log={tmp_path / 'audit.jsonl'}",
        ],
        env={"KUBECONFIG": str(emulator.kubeconfig)},
    )
    async with Client(params) as client:
        overview = structured(await client.call_tool("cluster_overview", {}))
        group = structured(
            await client.call_tool("describe_consumer_group", {"group": incident.billing_group})
        )
        too_big = await client.call_tool(
            "draft_increase_partitions",
            {"topic": incident.orders, "partitions": 8, "reason": "spread the hot customer"},
        )
    assert overview["cluster"] == "incident-cluster"
    assert group["owner"] == {
        "team": "payments-team",
        "contact": "#payments-oncall",
        "runbooks": [],
    }
    assert group["lag"]["totalLag"] == 2 * (PAYMENTS_PER_PARTITION - BILLING_COMMITTED)
    assert "breaks the cluster policy" in error_text(too_big)
    assert (
        "increasePartitions.partitions: 8 is above this cluster's limit of 4 partitions per "
        "topic (policy.limits.maxPartitions)"
    ) in error_text(too_big)


def assert_intact(audit_log: Path, records: int) -> None:
    """``kcr audit verify`` finds every record and nothing removed, altered or cut off."""
    verified = subprocess.run(
        [*KCR, "audit", "verify", str(audit_log)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verified.stdout.endswith(f"{records} record(s) in 1 chain(s), intact\n"), verified.stderr


def _answer(process: subprocess.Popen[bytes], request_id: int, timeout: float) -> dict[str, Any]:
    """The JSON-RPC answer to ``request_id`` on the server's stdout (bounded in time)."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(left):
                break
            line = process.stdout.readline()
            if not line:
                break
            message: dict[str, Any] = json.loads(line)
            if message.get("id") == request_id:
                return message
    raise AssertionError(f"no answer to request {request_id} within {timeout} s")


def _send(process: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
    assert process.stdin is not None
    process.stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
    process.stdin.flush()


async def test_a_server_killed_as_it_answers_a_read_keeps_its_record(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A read's reply may leave before its record's sync to disk, never before its write:
    killed the moment it answered, the server leaves the record and a log that verifies."""
    audit_log = tmp_path / "audit.jsonl"
    params = stdio(kafka_bootstrap, audit_log, "--principal=erin")
    process = subprocess.Popen(
        [params.command, *params.args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, **(params.env or {})},
        bufsize=0,  # no lines hidden in a reader's buffer from the selector in _answer
    )
    try:
        _send(
            process,
            {
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": LATEST_PROTOCOL_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": "kill-test", "version": "1"},
                },
            },
        )
        _answer(process, 1, 60)
        _send(process, {"method": "notifications/initialized"})
        _send(process, {"id": 2, "method": "tools/call", "params": {"name": "cluster_overview"}})
        answered = _answer(process, 2, 60)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    assert answered["result"]["structuredContent"]["brokers"]
    (record,) = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert (record["tool"], record["outcome"]) == ("cluster_overview", "ok")
    assert_intact(audit_log, records=1)
