"""Every error a person meets on the command line is one line naming the thing, with a
non-zero exit status: never a traceback. Each runs the installed console script in a
subprocess, as a person would, with an empty HOME so no kubeconfig of the machine leaks in.
"""

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import kmock
import pytest
import yaml

from .kube_api import RunningApi, User, running_api

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = yaml.safe_load((ROOT / "manifests/examples/alter-topic-config.yaml").read_text())
BOB = User("bob")
RUN_SECONDS = 120
KAFKA_CLUSTERS = kmock.resource("kcr.dev/v1alpha1/kafkaclusters")


def closed_port() -> int:
    """A loopback port nothing listens on: bound once, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def run(tmp_path: Path, program: str, *args: str) -> tuple[int, list[str]]:
    """Exit status and the non-empty lines of stderr and stdout together."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    done = subprocess.run(
        [str(BIN / program), *args],
        capture_output=True,
        text=True,
        env={"HOME": str(home), "PATH": str(BIN)},
        stdin=subprocess.DEVNULL,
        timeout=RUN_SECONDS,
        check=False,
    )
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    return done.returncode, lines


def one_error_line(status: int, lines: list[str]) -> str:
    assert status != 0, lines
    assert len(lines) == 1, "\n".join(lines)
    assert "Traceback" not in lines[0]
    return lines[0]


def kubeconfig_for(tmp_path: Path, server: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "user:bob"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "k"}}],
        "current-context": "x",
    }
    path = tmp_path / "unreachable.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def api(tmp_path: Path) -> Iterator[RunningApi]:
    with running_api(tmp_path) as running:
        running.add_user(BOB)
        yield running


@pytest.mark.parametrize(
    "command", [["list"], ["list", "-A"], ["describe", "orders"], ["approve", "orders"]]
)
def test_kubectl_kcr_names_an_unreachable_api_server(tmp_path: Path, command: list[str]) -> None:
    server = f"https://127.0.0.1:{closed_port()}"
    config = kubeconfig_for(tmp_path, server)
    status, lines = run(tmp_path, "kubectl-kcr", "--kubeconfig", str(config), *command)
    line = one_error_line(status, lines)
    assert line.startswith("Error: ")
    assert f"cannot reach the Kubernetes API server {server}: Connection refused" in line


BAD_KUBECONFIGS = {
    "not-yaml": ("clusters: [oops", "not valid YAML"),
    "not-a-kubeconfig": ("hello", "not a kubeconfig (expected clusters, contexts and users)"),
    "missing": (None, "no such file"),
}


@pytest.mark.parametrize("case", sorted(BAD_KUBECONFIGS))
@pytest.mark.parametrize(
    ("program", "args"),
    [
        ("kubectl-kcr", ["list"]),
        ("kubectl-kcr", ["describe", "orders"]),
        ("kcr", ["mcp", "--kafka-bootstrap", "127.0.0.1:9092"]),
    ],
    ids=["kubectl-kcr-list", "kubectl-kcr-describe", "kcr-mcp"],
)
def test_a_bad_kubeconfig_is_named_with_what_is_wrong(
    tmp_path: Path, case: str, program: str, args: list[str]
) -> None:
    text, expected = BAD_KUBECONFIGS[case]
    path = tmp_path / f"{case}.kubeconfig"
    if text is not None:
        path.write_text(text)
    if program == "kcr":
        args = [*args[:1], "--kubeconfig", str(path), *args[1:]]
    else:
        args = ["--kubeconfig", str(path), *args]
    status, lines = run(tmp_path, program, *args)
    line = one_error_line(status, lines)
    assert f"cannot load the kubeconfig {path}: {expected}" in line


def test_an_unknown_request_is_named(api: RunningApi, tmp_path: Path) -> None:
    config = str(api.kubeconfigs[BOB.name])
    status, lines = run(tmp_path, "kubectl-kcr", "--kubeconfig", config, "describe", "nope")
    line = one_error_line(status, lines)
    assert "reading KafkaChangeRequest kafka-ops/nope" in line
    assert "not found" in line
    assert "HTTP 404" in line


def test_diff_names_a_missing_kafkacluster(api: RunningApi, tmp_path: Path) -> None:
    api.put(EXAMPLE)
    config = str(api.kubeconfigs[BOB.name])
    name = EXAMPLE["metadata"]["name"]
    status, lines = run(tmp_path, "kubectl-kcr", "--kubeconfig", config, "diff", name)
    line = one_error_line(status, lines)
    cluster = EXAMPLE["spec"]["cluster"]
    assert f"reading KafkaCluster kafka-ops/{cluster}" in line
    assert "HTTP 404" in line


def test_diff_names_an_unreachable_kafka(api: RunningApi, tmp_path: Path) -> None:
    api.put(EXAMPLE)
    cluster = {
        "apiVersion": "kcr.dev/v1alpha1",
        "kind": "KafkaCluster",
        "metadata": {"name": EXAMPLE["spec"]["cluster"], "namespace": "kafka-ops"},
        "spec": {"bootstrapServers": "kafka.invalid:9092"},
    }
    api.server.objects[KAFKA_CLUSTERS, "kafka-ops", cluster["metadata"]["name"]] = cluster
    bootstrap = f"127.0.0.1:{closed_port()}"
    config = str(api.kubeconfigs[BOB.name])
    name = EXAMPLE["metadata"]["name"]
    status, lines = run(
        tmp_path,
        "kubectl-kcr",
        "--kubeconfig",
        config,
        "diff",
        name,
        "--kafka-bootstrap",
        bootstrap,
    )
    line = one_error_line(status, lines)
    assert line.startswith(f"Error: reading Kafka for cluster {EXAMPLE['spec']['cluster']}: ")
    assert f"{bootstrap}/bootstrap: Connect to ipv4#{bootstrap} failed" in line


def test_kcr_mcp_names_an_unreachable_api_server(tmp_path: Path) -> None:
    server = f"https://127.0.0.1:{closed_port()}"
    config = kubeconfig_for(tmp_path, server)
    status, lines = run(tmp_path, "kcr", "mcp", "--kubeconfig", str(config))
    line = one_error_line(status, lines)
    assert f"cannot reach the Kubernetes API server {server}: Connection refused" in line


def test_kcr_mcp_names_a_missing_kafkacluster(api: RunningApi, tmp_path: Path) -> None:
    config = str(api.kubeconfigs[BOB.name])
    status, lines = run(tmp_path, "kcr", "mcp", "--kubeconfig", config, "--cluster", "prod")
    line = one_error_line(status, lines)
    assert line == (
        "Error: no KafkaCluster named prod in namespace kafka-ops; create one or pass "
        "--kafka-bootstrap"
    )


@pytest.mark.parametrize("case", ["not-yaml", "not-a-kubeconfig"])
def test_kcr_operator_names_a_bad_kubeconfig_before_starting(tmp_path: Path, case: str) -> None:
    text, expected = BAD_KUBECONFIGS[case]
    path = tmp_path / f"{case}.kubeconfig"
    path.write_text(str(text))
    status, lines = run(tmp_path, "kcr", "operator", "--kubeconfig", str(path), "-n", "kafka")
    line = one_error_line(status, lines)
    assert line.startswith(f"Error: cannot log in to Kubernetes from kubeconfig {path}: {expected}")
