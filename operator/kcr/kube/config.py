"""Where the official client connects: a kubeconfig context, or the pod's service account.

The namespace is chosen as kubectl chooses it (the flag, else the context's, else
``default``), so the plugin and the MCP server act where the person expects. A kubeconfig
that cannot be used raises :class:`KubeconfigError` naming the file and what is wrong with
it; the caller knows whether falling back to the cluster makes sense.
"""

import os
from dataclasses import dataclass
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from kcr.kube.errors import KubeError

REQUEST_TIMEOUT_SECONDS = 10.0
"""A bound for each call of a long-running server, so none waits for ever."""

SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

# The config loaders are untyped.
_config: Any = config


@dataclass(frozen=True)
class Connection:
    api: Any
    """A ``kubernetes.client.ApiClient``; close it when done."""
    namespace: str


class KubeconfigError(KubeError):
    """The kubeconfig is missing, not YAML, or not a kubeconfig; the message names it."""


# What the official loader raises for a file it cannot use: its own ConfigException, the
# YAML parser's errors, and Python errors when the YAML is not a mapping of the right shape.
LOADER_ERRORS = (
    ConfigException,
    OSError,
    yaml.YAMLError,
    TypeError,
    ValueError,
    KeyError,
    AttributeError,
)


def from_kubeconfig(
    kubeconfig: str | None, context: str | None, namespace: str | None
) -> Connection:
    """The context of ``kubeconfig`` (``KUBECONFIG`` or ~/.kube/config when None)."""
    try:
        api = _config.new_client_from_config(
            config_file=kubeconfig, context=context, persist_config=False
        )
        return Connection(api, namespace or _context_namespace(kubeconfig, context))
    except LOADER_ERRORS as error:
        raise KubeconfigError(
            f"cannot load the kubeconfig {kubeconfig_path(kubeconfig)}: {loader_reason(error)}"
        ) from error


def kubeconfig_path(kubeconfig: str | None) -> str:
    return kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"


def loader_reason(error: Exception) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"not valid YAML ({error.problem} at line {mark.line + 1}, column {mark.column + 1})"
    if isinstance(error, yaml.YAMLError):
        return "not valid YAML"
    if isinstance(error, TypeError | KeyError | AttributeError):
        return "not a kubeconfig (expected clusters, contexts and users)"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = " ".join(str(error).split())
    if "No configuration found" in text:
        return "no such file, or it holds no configuration"
    return text


def in_cluster(namespace: str | None) -> Connection:
    """The pod's service account; raises ``ConfigException`` outside a cluster."""
    _config.load_incluster_config()
    return Connection(client.ApiClient(), namespace or _service_account_namespace())


def _context_namespace(kubeconfig: str | None, context: str | None) -> str:
    contexts, active = _config.list_kube_config_contexts(config_file=kubeconfig)
    if context is not None:
        active = next((c for c in contexts if c["name"] == context), active)
    return str((active or {}).get("context", {}).get("namespace") or "default")


def _service_account_namespace() -> str:
    try:
        with open(SERVICE_ACCOUNT_NAMESPACE, encoding="utf-8") as handle:
            return handle.read().strip() or "default"
    except OSError:
        return "default"
