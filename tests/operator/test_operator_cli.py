"""``kcr operator``: every flag documented, bad combinations refused, and a real run against
the emulator through a kubeconfig, with its health and metrics endpoints."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from operator_harness import free_port

from kcr.cli.main import cli
from kcr.embedded.kube_emulator import EmulatorThread

FLAGS = [
    "--kubeconfig",
    "--in-cluster",
    "--namespace",
    "--all-namespaces",
    "--metrics-port",
    "--health-port",
    "--listen-address",
    "--peering",
    "--standalone",
    "--priority",
    "--no-cluster-scan",
    "--log-level",
    "--log-format",
]


def test_help_documents_every_flag() -> None:
    result = CliRunner().invoke(cli, ["operator", "--help"])
    assert result.exit_code == 0
    for flag in FLAGS:
        assert flag in result.output
    assert "SIGTERM" in result.output


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ([], "give --namespace (one or more) or --all-namespaces"),
        (["-n", "a", "-A"], "give --namespace (one or more) or --all-namespaces"),
        (["-n", "a", "--peering", "p", "--standalone"], "--peering and --standalone exclude"),
        (["-n", "a", "--log-format", "xml"], "'xml' is not one of 'json', 'text'"),
    ],
    ids=["no-namespace", "both-scopes", "peering-and-standalone", "bad-log-format"],
)
def test_bad_flag_combinations_are_refused(arguments: list[str], says: str) -> None:
    result = CliRunner().invoke(cli, ["operator", *arguments])
    assert result.exit_code == 2
    assert says in result.output


@pytest.mark.slow
def test_operator_runs_from_the_command_line(tmp_path: Path) -> None:
    metrics, health = free_port(), free_port()
    with EmulatorThread(namespaces=("team-a",)) as emulator:
        assert emulator.kube is not None
        kubeconfig = emulator.kube.write_kubeconfig(tmp_path / "kubeconfig")
        log = (tmp_path / "operator.log").open("w+")
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "kcr"), "operator",
                "--kubeconfig", str(kubeconfig),
                "--namespace", "team-a",
                "--listen-address", "127.0.0.1",
                "--metrics-port", str(metrics),
                "--health-port", str(health),
                "--standalone",
                "--no-cluster-scan",
                "--log-format", "json",
            ],
            stderr=log,
            stdout=log,
        )  # fmt: skip
        try:
            health_body = wait_for(f"http://127.0.0.1:{health}/healthz", process)
            url = f"{emulator.kube.url}/apis/kcr.dev/v1alpha1/namespaces/team-a/kafkachangerequests"
            body = {
                "metadata": {"name": "typo"},
                "spec": {"cluster": "prod", "change": {"type": "CreateTopik"}},
            }
            httpx.post(url, json=body).raise_for_status()
            phase = ""
            for _ in range(200):
                phase = httpx.get(f"{url}/typo").json().get("status", {}).get("phase", "")
                if phase:
                    break
                time.sleep(0.05)
            scraped = httpx.get(f"http://127.0.0.1:{metrics}/metrics").text
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
        log.seek(0)
        lines = [json.loads(line) for line in log if line.startswith("{")]

    assert phase == "Invalid", (tmp_path / "operator.log").read_text()[-3000:]
    assert code == 0
    assert "requests" in health_body
    assert 'kcr_requests{kind="Unknown",phase="Invalid",risk="None"} 1.0' in scraped
    assert any(
        line.get("name") == "typo" and line.get("reason") == "ValidationFailed" for line in lines
    )


def wait_for(url: str, process: subprocess.Popen[bytes]) -> str:
    for _ in range(300):
        if process.poll() is not None:
            raise AssertionError(f"kcr operator exited early with code {process.returncode}")
        try:
            return httpx.get(url).text
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError(f"{url} never answered")
