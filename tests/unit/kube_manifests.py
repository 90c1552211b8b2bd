"""Loading and validating the Kubernetes manifests offline, for the test_manifests* suites.

Core kinds are checked with kubernetes-validate (the API's own OpenAPI schemas, strict:
unknown fields are errors); the prometheus-operator and Argo CD kinds with the schemas in
schemas/; kcr's own kinds with the CRDs generated from the models.
"""

import copy
import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from kcr.crd import build_crds

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
# The oldest Kubernetes kcr supports: ValidatingAdmissionPolicy v1 is GA from 1.30.
KUBERNETES_VERSION = "1.30"
KUBECTL_MISSING = "kubectl (with its built-in kustomize) is not installed"

Document = dict[str, Any]


def load_documents(path: Path) -> list[Document]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization(directory: Path) -> Document:
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        if (directory / name).is_file():
            document: Document = yaml.safe_load((directory / name).read_text())
            return document
    raise FileNotFoundError(f"no kustomization in {directory}")


def resource_files(directory: Path) -> list[Path]:
    """Every file a kustomization includes, following directory entries."""
    files: list[Path] = []
    for entry in kustomization(directory)["resources"]:
        path = (directory / entry).resolve()
        files += resource_files(path) if path.is_dir() else [path]
    return files


def source_documents(directory: Path = MANIFESTS) -> list[Document]:
    """The resources of a kustomization as written, without running kustomize."""
    return [doc for path in resource_files(directory) for doc in load_documents(path)]


def kustomize(directory: Path) -> list[Document]:
    """``kubectl kustomize DIRECTORY``, parsed; fails with kustomize's own message."""
    kubectl = shutil.which("kubectl")
    assert kubectl is not None, KUBECTL_MISSING
    built = subprocess.run(
        [kubectl, "kustomize", str(directory)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


def strict(schema: Any) -> Any:
    """A CRD schema as the API server applies it with fieldValidation=Strict.

    CRD schemas leave ``additionalProperties`` out and prune unknown fields; a manifest
    that relies on pruning has a typo, so unknown fields become errors here.
    """
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in result
        and "additionalProperties" not in result
        and not result.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


@cache
def custom_schemas() -> dict[tuple[str, str], Any]:
    """(apiVersion, kind) → strict schema, for the kinds kubernetes-validate does not know."""
    schemas: dict[tuple[str, str], Any] = {}
    vendored = {
        "servicemonitor-monitoring.coreos.com-v1.json": (
            "monitoring.coreos.com/v1",
            "ServiceMonitor",
        ),
        "prometheusrule-monitoring.coreos.com-v1.json": (
            "monitoring.coreos.com/v1",
            "PrometheusRule",
        ),
        "application-argoproj.io-v1alpha1.json": ("argoproj.io/v1alpha1", "Application"),
        "appproject-argoproj.io-v1alpha1.json": ("argoproj.io/v1alpha1", "AppProject"),
    }
    for file_name, key in vendored.items():
        schemas[key] = strict(json.loads((SCHEMAS / file_name).read_text()))
    for crd in build_crds():
        spec = crd["spec"]
        for version in spec["versions"]:
            schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
            schema["properties"].pop("status", None)
            key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
            schemas[key] = strict(schema)
    return schemas


def schema_errors(document: Document) -> list[str]:
    """Every way ``document`` breaks its kind's schema, one line each; empty when valid."""
    where = f"{document.get('kind')} {document.get('metadata', {}).get('name')}"
    key = (document.get("apiVersion", ""), document.get("kind", ""))
    schema = custom_schemas().get(key)
    if schema is not None:
        validator = jsonschema.Draft7Validator(schema)
        return [
            f"{where}: {'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
            for error in validator.iter_errors(document)
        ]
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(p) for p in error.path)
        return [f"{where}: {path}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{where}: no schema known for {key[0]} {key[1]}"]
    return []
