"""`make e2e` is complete even where it cannot run: its cluster, Kafka and overlay agree,
the overlay builds and validates, and without Docker it says what is missing."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .kube_manifests import ROOT, kustomize, load_documents, schema_errors

E2E = ROOT / "tests" / "e2e"
RUN = E2E / "run.sh"
KIND = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
KAFKA = load_documents(E2E / "kafka.yaml")


def test_kind_node_is_pinned_by_digest_and_new_enough_for_the_policy() -> None:
    (node,) = KIND["nodes"]
    image = re.fullmatch(r"kindest/node:v1\.(\d+)\.\d+@sha256:[0-9a-f]{64}", node["image"])
    assert image is not None, node["image"]
    assert int(image.group(1)) >= 30, "ValidatingAdmissionPolicy v1 needs Kubernetes 1.30"


def test_kafka_is_published_on_loopback_where_the_tests_look() -> None:
    (node,) = KIND["nodes"]
    published = {m["hostPort"]: m for m in node["extraPortMappings"]}
    assert all(m["listenAddress"] == "127.0.0.1" for m in published.values())
    kafka = next(d for d in KAFKA if d["kind"] == "Kafka")
    listener = next(li for li in kafka["spec"]["kafka"]["listeners"] if li["type"] == "nodeport")
    bootstrap = listener["configuration"]["bootstrap"]["nodePort"]
    brokers = listener["configuration"]["brokers"]
    assert {bootstrap, *(b["nodePort"] for b in brokers)} == set(published)
    assert all(b["advertisedHost"] == "127.0.0.1" for b in brokers)
    assert f"KCR_KAFKA_BOOTSTRAP=127.0.0.1:{bootstrap}" in RUN.read_text()


def test_run_pins_what_it_installs() -> None:
    script = RUN.read_text()
    assert re.search(r"^KIND_VERSION=v\d+\.\d+\.\d+$", script, re.M)
    assert re.search(r"^STRIMZI_VERSION=\d+\.\d+\.\d+$", script, re.M)
    assert re.search(r"^PROMETHEUS_OPERATOR_VERSION=v\d+\.\d+\.\d+$", script, re.M)
    assert "latest" not in script
    assert "--config kind-config.yaml" in script
    assert "-f manifests/image/Containerfile" in script
    assert "kubectl apply -k tests/e2e/overlay" in script


def test_run_explains_what_is_missing_and_fails(tmp_path: Path) -> None:
    """Without Docker and kind on PATH, it names both and exits non-zero at once."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("dirname", "bash"):
        found = shutil.which(tool)
        assert found is not None
        (tools / tool).symlink_to(found)
    result = subprocess.run(
        [str(tools / "bash"), str(RUN)],
        env={"PATH": str(tools), "HOME": str(tmp_path)},
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    message = result.stderr
    assert message.startswith("make e2e cannot run here; it needs:")
    for needed in ("docker: the Docker CLI", "kind v0.27.0", "kubectl", "curl"):
        assert needed in message
    assert "make test" in message


def test_run_passes_shellcheck(shellcheck_path: str) -> None:
    checked = subprocess.run(
        [shellcheck_path, str(RUN)], check=False, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout


def test_run_is_executable() -> None:
    assert os.access(RUN, os.X_OK)


@pytest.mark.usefixtures("kubectl_path")
def test_e2e_overlay_builds_and_validates() -> None:
    documents = kustomize(E2E / "overlay")
    assert [line for d in documents for line in schema_errors(d)] == []
    params = next(d for d in documents if d["metadata"]["name"] == "kcr-admission")["data"]
    approvers = next(d for d in documents if d["metadata"]["name"] == "kcr-approvers")
    assert approvers["subjects"][0]["name"] == params["approversGroup"]
    assert params["approversGroup"] == "system:serviceaccounts:kcr-e2e-approvers"
    images = {
        c["image"]
        for d in documents
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"localhost/kcr:e2e"}


@pytest.mark.parametrize("document", KAFKA, ids=lambda d: d["kind"])
def test_kafka_for_e2e_is_a_single_kraft_node(document: dict[str, object]) -> None:
    text = yaml.safe_dump(document)
    assert "zookeeper" not in text
    if document["kind"] == "KafkaNodePool":
        assert document["spec"]["roles"] == ["controller", "broker"]  # type: ignore[index]
        assert document["spec"]["replicas"] == 1  # type: ignore[index]
