"""The optional peering component: two operator replicas, kopf's CRDs, its peering and RBAC."""

import shutil
from pathlib import Path

import pytest
import yaml

from kcr.cli.main import cli as kcr_cli

from .kube_manifests import (
    MANIFESTS,
    ROOT,
    Document,
    kustomize,
    load_documents,
    schema_errors,
)

PEERING = MANIFESTS / "peering"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, kubectl_path: str) -> list[Document]:
    """The base with the component, as a site overlay would build it."""
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(MANIFESTS, root / "manifests")
    shutil.copytree(ROOT / "crds", root / "crds")
    overlay = root / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": ["../manifests"], "components": ["../manifests/peering"]})
    )
    return kustomize(overlay)


def operator_of(documents: list[Document]) -> Document:
    return next(
        d
        for d in documents
        if d["kind"] == "Deployment" and d["metadata"]["name"] == "kcr-operator"
    )


def test_replicas_join_the_peering_the_component_creates(built: list[Document]) -> None:
    deployment = operator_of(built)
    assert deployment["spec"]["replicas"] == 2
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert "--standalone" not in args
    assert "--all-namespaces" in args, "a cluster-wide operator meets in a ClusterKopfPeering"
    (name,) = [a.split("=", 1)[1] for a in args if a.startswith("--peering=")]
    peerings = [d for d in built if d["kind"] == "ClusterKopfPeering"]
    assert [(p["apiVersion"], p["metadata"]["name"]) for p in peerings] == [("kopf.dev/v1", name)]
    command = kcr_cli.get_command(
        kcr_cli.make_context("kcr", ["--help"], resilient_parsing=True), args[0]
    )
    assert command is not None
    command.make_context(args[0], list(args[1:]))


def test_the_operator_may_watch_and_patch_its_peering(built: list[Document]) -> None:
    roles = {d["metadata"]["name"]: d for d in built if d["kind"] == "ClusterRole"}
    bindings = [
        d
        for d in built
        if d["kind"] == "ClusterRoleBinding"
        and {"kind": "ServiceAccount", "name": "kcr-operator", "namespace": "kcr-system"}
        in d["subjects"]
    ]
    rules = [r for b in bindings for r in roles[b["roleRef"]["name"]]["rules"]]
    peering = [r for r in rules if r["apiGroups"] == ["kopf.dev"]]
    verbs = {v for r in peering for v in r["verbs"] if "clusterkopfpeerings" in r["resources"]}
    assert verbs == {"get", "list", "watch", "patch"}


def test_the_base_stays_standalone() -> None:
    (document,) = [
        d
        for d in load_documents(MANIFESTS / "operator" / "deployment.yaml")
        if d["kind"] == "Deployment"
    ]
    assert document["spec"]["replicas"] == 1
    assert "--standalone" in document["spec"]["template"]["spec"]["containers"][0]["args"]


# The Component itself and the kopf.dev object have no schema to check against.
CHECKED = [PEERING / "crds.yaml", PEERING / "rbac.yaml"]


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.name)
def test_component_files_are_valid(path: Path) -> None:
    for document in load_documents(path):
        assert schema_errors(document) == []


def test_peering_crds_define_what_kopf_looks_for() -> None:
    crds = {d["metadata"]["name"]: d for d in load_documents(PEERING / "crds.yaml")}
    assert set(crds) == {"clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"}
    scopes = {name: crd["spec"]["scope"] for name, crd in crds.items()}
    assert scopes == {
        "clusterkopfpeerings.kopf.dev": "Cluster",
        "kopfpeerings.kopf.dev": "Namespaced",
    }
    for crd in crds.values():
        status = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
        assert status["x-kubernetes-preserve-unknown-fields"] is True
