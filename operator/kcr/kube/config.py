"""Where kcr connects and as whom: a kubeconfig context, or the pod's service account.

Reading a kubeconfig is left to the official ``kubernetes`` loader, which knows every form
of it (tokens, client certificates, exec plugins, auth providers, inline data); what it
found becomes plain :class:`Credentials` for kcr's own client. The namespace is chosen as
kubectl chooses it (the flag, else the context's, else ``default``), so the plugin and the
MCP server act where the person expects. A kubeconfig that cannot be used raises
:class:`KubeconfigError` naming the file and what is wrong with it.
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
class Credentials:
    """How to reach the API server and who to be there; files are paths the loader wrote."""

    server: str
    ca_file: str | None = None
    ca_data: str | None = None
    """PEM, when a caller has the CA in memory rather than in a file."""
    insecure: bool = False
    cert_file: str | None = None
    key_file: str | None = None
    authorization: str | None = None
    """The whole ``Authorization`` header value (``Bearer ...``)."""
    username: str | None = None
    password: str | None = None
    proxy: str | None = None
    tls_server_name: str | None = None


@dataclass(frozen=True)
class Connection:
    credentials: Credentials
    namespace: str


class KubeconfigError(KubeError):
    """The kubeconfig is missing, not YAML, or not a kubeconfig; the message names it."""

    @property
    def retriable(self) -> bool:
        return False  # a person has to fix the file first


class NotInClusterError(KubeError):
    """No service account here: not running in a pod, or its token is not mounted."""

    @property
    def retriable(self) -> bool:
        return False


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


def load_kubeconfig(kubeconfig: str | None, context: str | None = None) -> Credentials:
    """The context's credentials; raises one of :data:`LOADER_ERRORS` when unusable."""
    loaded = client.Configuration()
    _config.load_kube_config(
        config_file=kubeconfig,
        context=context,
        client_configuration=loaded,
        persist_config=False,
    )
    return _credentials(loaded)


def load_in_cluster() -> Credentials:
    """The pod's service account; raises :class:`NotInClusterError` outside a cluster."""
    loaded = client.Configuration()
    try:
        _config.load_incluster_config(client_configuration=loaded)
    except ConfigException as error:
        raise NotInClusterError(str(error)) from error
    return _credentials(loaded)


def from_kubeconfig(
    kubeconfig: str | None, context: str | None, namespace: str | None
) -> Connection:
    """The context of ``kubeconfig`` (``KUBECONFIG`` or ~/.kube/config when None)."""
    try:
        credentials = load_kubeconfig(kubeconfig, context)
        return Connection(credentials, namespace or _context_namespace(kubeconfig, context))
    except LOADER_ERRORS as error:
        raise KubeconfigError(
            f"cannot load the kubeconfig {kubeconfig_path(kubeconfig)}: {loader_reason(error)}"
        ) from error


def in_cluster(namespace: str | None) -> Connection:
    """The pod's service account; raises :class:`NotInClusterError` outside a cluster."""
    return Connection(load_in_cluster(), namespace or _service_account_namespace())


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


def _credentials(loaded: Any) -> Credentials:
    """The loader's findings; reading the token runs its refresh hook (exec plugins)."""
    authorization = loaded.get_api_key_with_prefix("BearerToken") or loaded.get_api_key_with_prefix(
        "authorization"
    )
    return Credentials(
        server=str(loaded.host),
        ca_file=loaded.ssl_ca_cert or None,
        insecure=not loaded.verify_ssl,
        cert_file=loaded.cert_file or None,
        key_file=loaded.key_file or None,
        authorization=authorization or None,
        username=loaded.username or None,
        password=loaded.password or None,
        proxy=loaded.proxy or None,
        tls_server_name=loaded.tls_server_name or None,
    )


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
