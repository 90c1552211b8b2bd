"""The optional mcp-replicas component: MCP server replicas that share rate limits and one
group sampler, with the RBAC for the ConfigMap the sampler writes."""

import shutil
from pathlib import Path

import pytest
import yaml

from kcr.cli.main import cli as kcr_cli

from .kube_manifests import MANIFESTS, ROOT, Document, kustomize


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, kubectl_path: str) -> list[Document]:
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(MANIFESTS, root / "manifests")
    shutil.copytree(ROOT / "crds", root / "crds")
    overlay = root / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": ["../manifests"], "components": ["../manifests/mcp-replicas"]})
    )
    return kustomize(overlay)


def named(documents: list[Document], kind: str, name: str) -> Document:
    return next(d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name)


def test_replicas_share_limits_and_one_sampler_and_the_args_parse(
    built: list[Document], tmp_path: Path
) -> None:
    deployment = named(built, "Deployment", "kcr-mcp")
    assert deployment["spec"]["replicas"] == 3
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert {"--rate-limit-store=kubernetes", "--sample-store=kubernetes"} <= set(args)
    assert named(built, "Service", "kcr-mcp")["spec"]["sessionAffinity"] == "ClientIP"
    command = kcr_cli.get_command(
        kcr_cli.make_context("kcr", ["--help"], resilient_parsing=True), args[0]
    )
    assert command is not None
    access = tmp_path / "access.yaml"  # mounted from a ConfigMap in the Pod
    access.write_text("tokens: []\n")
    local = [f"--token-file={access}" if a.startswith("--token-file=") else a for a in args]
    command.make_context(args[0], local[1:])


def test_the_sampler_may_write_only_its_configmap(built: list[Document]) -> None:
    role = named(built, "Role", "kcr-mcp-group-samples")
    rules = {tuple(r["verbs"]): r.get("resourceNames") for r in role["rules"]}
    assert rules == {("create",): None, ("get", "patch"): ["kcr-mcp-sampler-prod"]}
    binding = named(built, "RoleBinding", "kcr-mcp-group-samples")
    assert binding["subjects"][0]["name"] == "kcr-mcp"
    leases = named(built, "Role", "kcr-mcp-rate-limits")["rules"][0]
    assert set(leases["verbs"]) == {"get", "create", "patch"}, "the sampler's Lease too"
