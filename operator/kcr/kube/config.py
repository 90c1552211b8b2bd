"""Where the official client connects: a kubeconfig context, or the pod's service account.

The namespace is chosen as kubectl chooses it (the flag, else the context's, else
``default``), so the plugin and the MCP server act where the person expects. Loading
errors are left to the caller, which knows whether falling back to the cluster makes sense.
"""

from dataclasses import dataclass
from typing import Any

from kubernetes import client, config

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


def from_kubeconfig(
    kubeconfig: str | None, context: str | None, namespace: str | None
) -> Connection:
    """The context of ``kubeconfig`` (``KUBECONFIG`` or ~/.kube/config when None).

    Raises the loader's ``ConfigException``, ``FileNotFoundError`` or ``TypeError``.
    """
    api = _config.new_client_from_config(
        config_file=kubeconfig, context=context, persist_config=False
    )
    return Connection(api, namespace or _context_namespace(kubeconfig, context))


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
