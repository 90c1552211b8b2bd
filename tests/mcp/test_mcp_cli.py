"""``kcr mcp`` as a person meets it: documented flags, and refusals to start unsafely."""

import os
import subprocess

import pytest
from mcp_servers import KCR

FLAGS = [
    "--transport",
    "--host",
    "--port",
    "--allowed-host",
    "--kafka-bootstrap",
    "KCR_KAFKA_BOOTSTRAP",
    "--cluster",
    "--cluster-file",
    "--namespace",
    "--kubeconfig",
    "--drafts",
    "--token-file",
    "--token-review",
    "--token-audience",
    "--oidc-issuer",
    "--oidc-username-claim",
    "--oidc-username-prefix",
    "--oidc-groups-claim",
    "--public-url",
    "--principal",
    "--role",
    "--topic-prefix",
    "--group-prefix",
    "--audit-log",
    "--runbooks-dir",
    "--metrics-port",
    "--rate-limit",
    "--rate-burst",
    "--rate-limit-store",
    "--sample-interval",
    "--log-dir-mountpoint",
    "--disk-pressure-at",
]


def run(*arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": "/nonexistent/kubeconfig"}
    env.pop("KCR_KAFKA_BOOTSTRAP", None)
    return subprocess.run(
        [*KCR, "mcp", *arguments], capture_output=True, text=True, timeout=60, env=env, check=False
    )


def test_help_documents_every_flag() -> None:
    shown = run("--help")
    assert shown.returncode == 0, shown.stderr
    missing = [flag for flag in FLAGS if flag not in shown.stdout]
    assert missing == []
    assert "--token-audience TEXT" in shown.stdout
    assert "[default: kcr-mcp]" in shown.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(
            ["--transport=http", "--kafka-bootstrap=127.0.0.1:9", "--drafts=yaml"],
            "--transport http needs --token-file, --oidc-issuer or --token-review: no token, "
            "no call",
            id="http-without-tokens",
        ),
        pytest.param(
            ["--transport=http", "--host=0.0.0.0", "--kafka-bootstrap=127.0.0.1:9"],
            "--host 0.0.0.0 listens beyond loopback: give --allowed-host",
            id="exposed-without-allowed-hosts",
        ),
        pytest.param(
            ["--transport=http", "--kafka-bootstrap=127.0.0.1:9", "--token-review"],
            "the Kubernetes API is needed for --token-review",
            id="token-review-without-kubernetes",
        ),
        pytest.param(
            ["--kafka-bootstrap=127.0.0.1:9", "--log-dir-mountpoint=var/lib/kafka"],
            "--log-dir-mountpoint: must match the pattern ^/[A-Za-z0-9._/-]*$, got 'var/lib/kafka'",
            id="relative-log-dir-mountpoint",
        ),
        pytest.param(
            ["--kafka-bootstrap=127.0.0.1:9", "--drafts=yaml", "--rate-limit-store=kubernetes"],
            "--rate-limit-store kubernetes keeps the limits in Leases: give a kubeconfig",
            id="shared-rate-limits-without-kubernetes",
        ),
        pytest.param(
            ["--drafts=yaml"],
            "a KafkaCluster resource (no --kafka-bootstrap or --cluster-file)",
            id="no-kafka-at-all",
        ),
    ],
)
def test_refuses_to_start_unsafely(arguments: list[str], message: str) -> None:
    refused = run(*arguments)
    assert refused.returncode == 1
    assert message in refused.stderr
