"""Installs people expect: uvx from the built wheel, a fresh virtual environment, the MCP
registry's server.json, the krew plugin and the container image."""

import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from mcp import Client, StdioServerParameters

from kcr.mcp.cli import command as mcp_command

from .conftest import ROOT, UV

pytestmark = pytest.mark.slow

INSTALL = ROOT / "manifests" / "install"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
RUN_SECONDS = 600

# The shape the MCP registry documents for server.json (schema 2025-09-29), as far as kcr
# uses it: reverse-DNS name with one slash, a short description, exact versions (never a
# range or "latest"), packages naming their registry, transport and arguments.
EXACT_VERSION = r"^(?!latest$)[0-9A-Za-z][0-9A-Za-z.+-]*$"
ARGUMENT = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"enum": ["positional", "named"]},
        "name": {"type": "string", "pattern": "^--?[a-z]"},
        "value": {"type": "string"},
        "description": {"type": "string"},
        "isRequired": {"type": "boolean"},
        "placeholder": {"type": "string"},
    },
    "additionalProperties": False,
    "if": {"properties": {"type": {"const": "named"}}},
    "then": {"required": ["name"]},
    "else": {"required": ["value"]},
}
SERVER_JSON_SHAPE = {
    "type": "object",
    "required": ["$schema", "name", "description", "version", "packages"],
    "properties": {
        "$schema": {
            "type": "string",
            "pattern": r"^https://static\.modelcontextprotocol\.io/schemas/[0-9-]+/server\.schema\.json$",
        },
        "name": {
            "type": "string",
            "minLength": 3,
            "maxLength": 200,
            "pattern": r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$",
        },
        "title": {"type": "string", "minLength": 1, "maxLength": 100},
        "description": {"type": "string", "minLength": 1, "maxLength": 100},
        "version": {"type": "string", "maxLength": 255, "pattern": EXACT_VERSION},
        "packages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["registryType", "identifier", "version", "transport"],
                "properties": {
                    "registryType": {"enum": ["npm", "pypi", "nuget", "oci", "mcpb"]},
                    "identifier": {"type": "string", "minLength": 1},
                    "version": {"type": "string", "pattern": EXACT_VERSION},
                    "runtimeHint": {"type": "string"},
                    "transport": {
                        "type": "object",
                        "required": ["type"],
                        "properties": {"type": {"enum": ["stdio", "streamable-http", "sse"]}},
                    },
                    "packageArguments": {"type": "array", "items": ARGUMENT},
                    "environmentVariables": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string"},
                                "format": {"enum": ["string", "number", "boolean", "filepath"]},
                            },
                        },
                    },
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}


def server_json() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((INSTALL / "server.json").read_text())
    return document


def test_server_json_has_the_registry_shape_and_names_this_package() -> None:
    document = server_json()
    jsonschema.validate(document, SERVER_JSON_SHAPE)
    (package,) = document["packages"]
    assert (package["registryType"], package["identifier"]) == ("pypi", "kcr")
    assert document["version"] == package["version"] == VERSION
    # The registry checks ownership of a PyPI package by this marker in its README.
    assert f"mcp-name: {document['name']}" in (ROOT / "README.md").read_text()


def test_server_json_arguments_are_flags_kcr_mcp_takes() -> None:
    (package,) = server_json()["packages"]
    arguments = package["packageArguments"]
    assert arguments[0] == {"type": "positional", "value": "mcp"}
    flags = {flag for p in mcp_command.params for flag in p.opts}
    named = [a["name"] for a in arguments if a["type"] == "named"]
    assert named
    assert set(named) <= flags


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: d.update(name="kcr"), "does not match"),
        (lambda d: d.update(version="latest"), "does not match"),
        (lambda d: d.update(description="x" * 101), "is too long"),
        (lambda d: d["packages"][0].pop("transport"), "'transport' is a required property"),
    ],
    ids=["name-without-namespace", "version-latest", "long-description", "no-transport"],
)
def test_the_shape_check_catches_mistakes(mutate: Any, words: str) -> None:
    """A control: the shape is strict enough to see the registry's own refusals."""
    document = server_json()
    mutate(document)
    with pytest.raises(jsonschema.ValidationError, match=words):
        jsonschema.validate(document, SERVER_JSON_SHAPE)


def krew_archive() -> Any:
    spec = importlib.util.spec_from_file_location("krew_archive", INSTALL / "krew_archive.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_krew_manifest_names_the_archive_it_would_install(tmp_path: Path) -> None:
    manifest = yaml.safe_load((INSTALL / "krew-kcr.yaml").read_text())
    assert manifest["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert manifest["kind"] == "Plugin"
    assert manifest["metadata"]["name"] == "kcr"  # kubectl kcr, from kubectl-kcr
    spec = manifest["spec"]
    assert spec["version"] == f"v{VERSION}"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", spec["version"])
    assert len(spec["shortDescription"]) <= 50
    builder = krew_archive()
    assert builder.VERSION == VERSION
    data = builder.archive_bytes()
    assert data == builder.archive_bytes(), "the archive must be reproducible"
    for platform in spec["platforms"]:
        assert platform["sha256"] == hashlib.sha256(data).hexdigest()
        assert platform["uri"].endswith(f"/v{VERSION}/kubectl-kcr-{VERSION}.tar.gz")
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            names = tar.getnames()
            for copy in platform["files"]:
                assert copy["from"] in names
            shim = tar.getmember(platform["bin"])
        assert shim.mode & 0o111, "krew links bin: it must be executable"


def test_the_krew_plugin_runs_kubectl_kcr_from_the_package(wheel: Path, tmp_path: Path) -> None:
    """What krew would unpack, run as kubectl would: the shim starts the package's plugin."""
    with tarfile.open(fileobj=io.BytesIO(krew_archive().archive_bytes()), mode="r:gz") as tar:
        tar.extractall(tmp_path, filter="data")
    env = {
        **os.environ,
        "PATH": f"{UV.parent}:{os.environ['PATH']}",
        "KCR_PACKAGE": str(wheel),
    }
    done = subprocess.run(
        [str(tmp_path / "kubectl-kcr"), "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Review and steer Kafka change requests" in done.stdout


def test_uvx_runs_kcr_mcp_from_the_wheel(wheel: Path) -> None:
    done = subprocess.run(
        [str(UV.parent / "uvx"), "--from", str(wheel), "kcr", "mcp", "--help"],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--kafka-bootstrap" in done.stdout
    assert "--oidc-issuer" in done.stdout


def test_a_fresh_virtual_environment_gets_both_commands(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([str(UV), "venv", "--quiet", str(venv)], check=True, timeout=RUN_SECONDS)
    subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            str(wheel),
        ],
        check=True,
        timeout=RUN_SECONDS,
    )
    version = subprocess.run(
        [str(venv / "bin" / "kcr"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == f"kcr, version {VERSION}"
    plugin = subprocess.run(
        [str(venv / "bin" / "kubectl-kcr"), "--help"], capture_output=True, text=True, check=True
    )
    assert "approve" in plugin.stdout


@pytest.mark.kafka
@pytest.mark.asyncio
async def test_a_stdio_session_through_uvx(
    wheel: Path, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The MCP client configuration the README shows, with the wheel in place of PyPI."""
    params = StdioServerParameters(
        command=str(UV.parent / "uvx"),
        args=[
            *("--quiet", "--from", str(wheel), "kcr", "mcp", "--transport", "stdio"),
            *("--kafka-bootstrap", kafka_bootstrap, "--sample-interval=0"),
        ],
        # uv's own settings and cache stay; no kubeconfig: a read-only start on Kafka alone.
        env={**os.environ, "KUBECONFIG": str(tmp_path / "no-kubeconfig")},
    )
    async with Client(params) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        overview = await client.call_tool("cluster_overview", {})
    assert "explain_current_state" in names
    assert not overview.is_error
    assert overview.structured_content["brokers"]


def test_make_image_builds_or_names_what_is_missing() -> None:
    engines = [
        e
        for e in ("podman", "docker")
        if shutil.which(e)
        and subprocess.run([e, "info"], capture_output=True, timeout=60, check=False).returncode
        == 0
    ]
    done = subprocess.run(
        ["make", "-s", "image", f"IMAGE=localhost/kcr:{VERSION}-test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS * 3,
        check=False,
    )
    if not engines:
        assert done.returncode != 0
        (line, *_) = done.stderr.splitlines()
        assert line == (
            "make image: no container engine (podman, or docker with a running daemon): "
            f"localhost/kcr:{VERSION}-test not built"
        )
        return
    assert done.returncode == 0, done.stderr[-2000:]
    inspect = subprocess.run(
        [engines[0], "image", "inspect", f"localhost/kcr:{VERSION}-test"],
        capture_output=True,
        check=False,
    )
    assert inspect.returncode == 0
