"""A read-only assistant with Kafka alone: ``kcr mcp --kafka-bootstrap`` and no kubeconfig.

The server runs as a subprocess driven by the SDK's stdio client, with an empty home
directory and no ``KUBECONFIG``, so no Kubernetes API can be found.
"""

import socket
from pathlib import Path

import pytest
import yaml
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp_servers import KCR
from mcp_support import Incident, error_text, structured

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]

KUBE_TOOLS = {"recent_deployments", "list_change_requests", "get_change_request"}


def kafka_only(home: Path, *args: str) -> StdioServerParameters:
    """No kubeconfig anywhere: HOME is empty and KUBECONFIG is not passed."""
    home.mkdir(exist_ok=True)
    return StdioServerParameters(
        command=KCR[0],
        args=["mcp", "--transport", "stdio", "--sample-interval=0", *args],
        env={"HOME": str(home)},
    )


async def test_a_viewer_starts_with_kafka_alone_and_is_offered_no_kubernetes_tools(
    kafka_bootstrap: str, incident: Incident, tmp_path: Path
) -> None:
    params = kafka_only(tmp_path / "home", "--kafka-bootstrap", kafka_bootstrap)
    async with Client(params) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        overview = structured(await client.call_tool("cluster_overview", {}))
        topic = structured(await client.call_tool("describe_topic", {"topic": incident.payments}))
        runbooks = structured(await client.call_tool("search_runbooks", {"query": "lag"}))
    assert not names & KUBE_TOOLS
    assert {"cluster_overview", "consumer_lag", "explain_current_state"} <= names
    assert overview["brokers"]
    assert len(topic["partitions"]) == 2
    assert runbooks["hits"]


async def test_drafts_without_kubernetes_come_back_as_yaml_with_a_notice_on_stderr(
    kafka_bootstrap: str, incident: Incident, tmp_path: Path
) -> None:
    params = kafka_only(
        tmp_path / "home",
        "--kafka-bootstrap",
        kafka_bootstrap,
        "--role=drafter",
        "--kubernetes-user=oidc:fay",
    )
    stderr = tmp_path / "stderr.log"
    with stderr.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
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
    assert draft["sink"] == "yaml"
    document = yaml.safe_load(draft["yaml"])
    assert document["spec"]["requestedBy"]["principal"] == "oidc:fay"
    assert "drafts come back as YAML for a pull request" in stderr.read_text()


async def test_owners_and_policy_come_from_a_cluster_file(
    kafka_bootstrap: str, incident: Incident, tmp_path: Path
) -> None:
    prefix = incident.orders.rsplit(".", 1)[0] + "."
    cluster_file = tmp_path / "cluster.yaml"
    cluster_file.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kcr.dev/v1alpha1",
                "kind": "KafkaCluster",
                "metadata": {"name": "prod-from-file", "namespace": "kafka"},
                "spec": {
                    "bootstrapServers": kafka_bootstrap,
                    "prometheusUrl": "http://127.0.0.1:9/",
                    "ownership": [
                        {"team": "payments-team", "contact": "#payments", "groupPrefixes": [prefix]}
                    ],
                    "policy": {"limits": {"maxPartitions": 4}},
                },
            }
        )
    )
    params = kafka_only(
        tmp_path / "home",
        f"--cluster-file={cluster_file}",
        "--role=drafter",
        "--kubernetes-user=oidc:fay",
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
    assert overview["cluster"] == "prod-from-file"
    assert group["owner"]["team"] == "payments-team"
    assert too_big.is_error
    assert "policy.limits.maxPartitions" in too_big.content[0].text


async def test_an_unreachable_kafka_is_one_line_naming_the_broker(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        bootstrap = f"127.0.0.1:{probe.getsockname()[1]}"
    params = kafka_only(tmp_path / "home", "--kafka-bootstrap", bootstrap, "--kafka-timeout=2")
    async with Client(params) as client:
        failed = await client.call_tool("cluster_overview", {})
    text = error_text(failed)
    assert "\n" not in text
    assert "Kafka: list topics: no broker is reachable" in text
    assert f"Connect to ipv4#{bootstrap} failed" in text
