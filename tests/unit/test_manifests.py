"""manifests/ builds with kustomize, every object is valid, and the workloads are locked down."""

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from kcr.cli.main import cli as kcr_cli
from kcr.crd import render_crds
from kcr.mcp.gate.access_file import AccessFile

from .kube_manifests import (
    MANIFESTS,
    ROOT,
    Document,
    kustomization,
    kustomize,
    resource_files,
    schema_errors,
    source_documents,
)

needs_kubectl = pytest.mark.usefixtures("kubectl_path")
SOURCES = source_documents()
EXPECTED = {
    ("Namespace", "kcr-system"),
    ("CustomResourceDefinition", "kafkachangerequests.kcr.dev"),
    ("CustomResourceDefinition", "kafkaclusters.kcr.dev"),
    ("ServiceAccount", "kcr-operator"),
    ("ServiceAccount", "kcr-mcp"),
    ("Deployment", "kcr-operator"),
    ("Deployment", "kcr-mcp"),
    ("Service", "kcr-mcp"),
    ("Service", "kcr-operator-metrics"),
    ("NetworkPolicy", "kcr-mcp"),
    ("NetworkPolicy", "kcr-operator"),
    ("ValidatingAdmissionPolicy", "kcr-approvals"),
    ("ValidatingAdmissionPolicyBinding", "kcr-approvals"),
    ("ConfigMap", "kcr-admission"),
    ("ServiceMonitor", "kcr"),
    ("PrometheusRule", "kcr"),
}


def by_kind(documents: list[Document], kind: str) -> list[Document]:
    return [d for d in documents if d["kind"] == kind]


def named(documents: list[Document], kind: str, name: str) -> Document:
    return next(d for d in by_kind(documents, kind) if d["metadata"]["name"] == name)


def ids(documents: list[Document]) -> list[str]:
    return [f"{d['kind']}/{d['metadata']['name']}" for d in documents]


@pytest.fixture(scope="module")
def built(kubectl_path: str) -> list[Document]:
    return kustomize(MANIFESTS)


@needs_kubectl
def test_kustomize_builds_every_part(built: list[Document]) -> None:
    present = {(d["kind"], d["metadata"]["name"]) for d in built}
    assert present >= EXPECTED, sorted(EXPECTED - present)
    dashboard = named(built, "ConfigMap", "kcr-grafana-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["kcr.json"])["uid"] == "kcr"
    images = {
        c["image"]
        for d in by_kind(built, "Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"localhost/kcr:0.1.0"}
    for document in built:
        assert document["metadata"]["labels"]["app.kubernetes.io/part-of"] == "kcr"


@needs_kubectl
def test_built_manifests_are_valid(built: list[Document]) -> None:
    errors = [line for document in built for line in schema_errors(document)]
    assert errors == []


@pytest.mark.parametrize("document", SOURCES, ids=ids(SOURCES))
def test_each_source_manifest_is_valid(document: Document) -> None:
    """The same check without kustomize, so it holds where kubectl is not installed."""
    assert schema_errors(document) == []


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: d["spec"]["template"]["spec"].update(securityContex={}), "securityContex"),
        (lambda d: d["spec"].update(replicas="one"), "'one' is not of type 'integer'"),
    ],
    ids=["misspelt field", "wrong type"],
)
def test_validation_catches_mistakes(mutate: Any, words: str) -> None:
    """A control: the validator is strict enough to see a typo."""
    deployment = json.loads(json.dumps(named(SOURCES, "Deployment", "kcr-operator")))
    mutate(deployment)
    assert any(words in line for line in schema_errors(deployment))


def test_every_manifest_file_is_in_the_base() -> None:
    """A file under manifests/ that kustomize does not include would never be deployed."""
    included = set(resource_files(MANIFESTS))
    outside_base = {"examples", "gitops", "image", "install", "mcp-replicas", "peering"}
    files = {
        p.resolve()
        for p in MANIFESTS.rglob("*.yaml")
        if p.relative_to(MANIFESTS).parts[0] not in outside_base and p.name != "kustomization.yaml"
    }
    assert files - included == set()
    generated = kustomization(MANIFESTS)["configMapGenerator"][0]["files"][0].split("=", 1)[1]
    assert (MANIFESTS / generated).is_file()


def test_crd_kustomization_lists_exactly_the_generated_crds() -> None:
    listed = kustomization(ROOT / "crds")["resources"]
    assert sorted(listed) == sorted(render_crds())


DEPLOYMENTS = by_kind(SOURCES, "Deployment")


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=ids(DEPLOYMENTS))
def test_workloads_run_locked_down(deployment: Document) -> None:
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == image_user()
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod.get("hostNetwork") is not True
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        ports = {port["name"] for port in container["ports"]}
        assert "metrics" in ports
        for probe in ("livenessProbe", "readinessProbe"):
            action = container[probe].get("httpGet") or container[probe]["tcpSocket"]
            assert action["port"] in ports, probe
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/tmp" in mounts, "a read-only root needs a writable /tmp"


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=ids(DEPLOYMENTS))
def test_workload_arguments_are_real_kcr_options(deployment: Document, tmp_path: Path) -> None:
    """Parse each container's args with the kcr CLI itself: a misspelt flag fails here.

    Files the pod mounts from ConfigMaps are written out first, so options that must
    name an existing file see the file the pod would see.
    """
    pod = deployment["spec"]["template"]["spec"]
    mounted = mount_config_maps(pod, tmp_path)
    for container in pod["containers"]:
        args = [mounted(arg) for arg in container["args"]]
        root = kcr_cli.make_context("kcr", ["--help"], resilient_parsing=True)
        command = kcr_cli.get_command(root, args[0])
        assert command is not None, f"kcr has no command {args[0]}"
        command.make_context(args[0], list(args[1:]))


def mount_config_maps(pod: Document, root: Path) -> Any:
    """Write each ConfigMap volume under ``root``; return a rewriter of in-pod paths."""
    places: dict[str, Path] = {}
    mounts = {m["name"]: m["mountPath"] for c in pod["containers"] for m in c["volumeMounts"]}
    for volume in pod["volumes"]:
        if "configMap" not in volume:
            continue
        data = named(SOURCES, "ConfigMap", volume["configMap"]["name"])["data"]
        directory = root / volume["name"]
        directory.mkdir()
        for key, text in data.items():
            (directory / key).write_text(text)
        places[mounts[volume["name"]]] = directory

    def rewrite(arg: str) -> str:
        for in_pod, here in places.items():
            arg = arg.replace(f"={in_pod}/", f"={here}/")
        return arg

    return rewrite


@pytest.mark.parametrize(
    "service", by_kind(SOURCES, "Service"), ids=ids(by_kind(SOURCES, "Service"))
)
def test_services_reach_named_ports_of_their_pods(service: Document) -> None:
    selector = service["spec"]["selector"]
    pods = [
        d["spec"]["template"]
        for d in DEPLOYMENTS
        if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
    ]
    assert len(pods) == 1, f"{service['metadata']['name']} selects {len(pods)} Deployments"
    ports = {p["name"] for c in pods[0]["spec"]["containers"] for p in c["ports"]}
    for port in service["spec"]["ports"]:
        assert port["targetPort"] in ports


def image_user() -> int:
    user = re.search(r"^USER (\d+):(\d+)$", containerfile(), re.MULTILINE)
    assert user is not None, "the image sets a numeric USER"
    return int(user.group(1))


def containerfile() -> str:
    return (MANIFESTS / "image" / "Containerfile").read_text()


def test_image_installs_the_locked_environment_and_runs_kcr() -> None:
    text = containerfile()
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    image_uv = re.search(r"^ARG UV_VERSION=(\S+)$", text, re.M)
    assert makefile_uv is not None
    assert image_uv is not None
    assert image_uv.group(1) == makefile_uv.group(1)
    assert "uv sync --frozen --no-dev" in text
    for line in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for source in line.split():
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    entrypoint = re.search(r'^ENTRYPOINT \["(\S+)"\]$', text, re.M)
    assert entrypoint is not None
    assert entrypoint.group(1) in project["scripts"]
    assert image_user() != 0


def test_image_build_context_keeps_local_state_out() -> None:
    ignore = (MANIFESTS / "image" / "Containerfile.dockerignore").read_text().split()
    assert ignore[ignore.index("*") :][:1] == ["*"], "deny everything first, then allow"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = {
        source.rstrip("/")
        for line in re.findall(r"^COPY (?!--from)(.+) \S+$", containerfile(), re.M)
        for source in line.split()
    }
    assert copied <= allowed
    assert not allowed & {".venv", ".git", ".tools", "tests"}


def test_admission_parameters_name_the_deployed_accounts() -> None:
    params = named(SOURCES, "ConfigMap", "kcr-admission")["data"]
    mcp = named(SOURCES, "Deployment", "kcr-mcp")
    account = mcp["spec"]["template"]["spec"]["serviceAccountName"]
    namespace = mcp["metadata"]["namespace"]
    assert params["mcpServer"] == f"system:serviceaccount:{namespace}:{account}"
    binding = named(SOURCES, "ValidatingAdmissionPolicyBinding", "kcr-approvals")["spec"]
    assert binding["paramRef"] == {
        "name": "kcr-admission",
        "namespace": namespace,
        "parameterNotFoundAction": "Deny",
    }
    approvers = named(SOURCES, "ClusterRoleBinding", "kcr-approvers")["subjects"]
    assert approvers == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": params["approversGroup"]}
    ]


def test_yaml_files_parse_as_kubernetes_objects() -> None:
    for path in sorted(MANIFESTS.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is None or path.name == "kustomization.yaml":
                continue
            assert {"apiVersion", "kind", "metadata"} <= set(document), path
            assert isinstance(document["metadata"].get("name"), str), path


def test_mcp_access_file_is_one_the_server_accepts() -> None:
    config_map = named(SOURCES, "ConfigMap", "kcr-mcp-access")
    pod = named(SOURCES, "Deployment", "kcr-mcp")["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if "configMap" in v]
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == volume["name"]]
    (key,) = config_map["data"]
    assert f"--token-file={mount['mountPath']}/{key}" in pod["containers"][0]["args"]
    data = config_map["data"][key]
    access = AccessFile.model_validate(yaml.safe_load(data))
    params = named(SOURCES, "ConfigMap", "kcr-admission")["data"]
    approver = access.caller_for_subject("bob", [params["approversGroup"]])
    assert approver is not None
    assert [str(role) for role in approver.roles] == ["viewer"]
    assert access.caller_for_subject("mallory", ["system:authenticated"]) is None
